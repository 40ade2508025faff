import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { z } from "zod";
import { type WireScript, wireScriptSchema } from "./wire-script-schema.js";

/** Thrown when a wire script file cannot be read or does not follow the format. */
export class WireScriptError extends Error {
  /** The file (or source label) the script came from. */
  readonly source: string;
  /** The offending field as a JSON path (`timeline[2].status`), or `""` for the whole file. */
  readonly field: string;

  constructor(source: string, field: string, problem: string, options?: { cause?: unknown }) {
    super(`${source}: ${field === "" ? "" : `${field}: `}${problem}`, options);
    this.name = "WireScriptError";
    this.source = source;
    this.field = field;
  }
}

/** Options of `loadWireScripts`. */
export interface LoadWireScriptsOptions {
  /** Keep only the scripts of these `provider_kind`s (all when absent). */
  readonly providerKinds?: readonly string[];
}

function fieldPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

function firstIssue(error: z.ZodError): { field: string; problem: string } {
  const issue = error.issues[0];
  if (issue === undefined) return { field: "", problem: "invalid wire script" };
  return { field: fieldPath(issue.path), problem: issue.message };
}

/**
 * Validates one parsed wire script. `source` names it in errors (a file name).
 *
 * @throws WireScriptError naming the source and the first bad field.
 */
export function parseWireScript(value: unknown, source: string): WireScript {
  const result = wireScriptSchema.safeParse(value);
  if (!result.success) {
    const { field, problem } = firstIssue(result.error);
    throw new WireScriptError(source, field, problem, { cause: result.error });
  }
  return result.data;
}

/**
 * Reads every `*.json` wire script of `directory`, validates it (`wireScriptSchema`) and returns
 * them sorted by name. A script's `name` must equal its file name without `.json`, and names are
 * unique.
 *
 * @throws WireScriptError naming the file and the field when a file is not JSON or not a valid script.
 */
export async function loadWireScripts(directory: string, options: LoadWireScriptsOptions = {}): Promise<WireScript[]> {
  const fileNames = (await readdir(directory)).filter((name) => name.endsWith(".json")).sort();
  const kinds = options.providerKinds === undefined ? undefined : new Set(options.providerKinds);
  const scripts: WireScript[] = [];
  for (const fileName of fileNames) {
    const text = await readFile(join(directory, fileName), "utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new WireScriptError(fileName, "", `not valid JSON (${error instanceof Error ? error.message : String(error)})`, {
        cause: error,
      });
    }
    const script = parseWireScript(parsed, fileName);
    const expectedName = basename(fileName, ".json");
    if (script.name !== expectedName) {
      throw new WireScriptError(
        fileName,
        "name",
        `${JSON.stringify(script.name)} differs from the file name ${JSON.stringify(expectedName)}`,
      );
    }
    if (kinds === undefined || kinds.has(script.provider_kind)) scripts.push(script);
  }
  return scripts;
}
