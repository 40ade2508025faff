import { createHash } from "node:crypto";

/** The longest tool name providers accept (OpenAI's and Anthropic's limit; the runtime checks it too). */
export const MAX_TOOL_NAME_LENGTH = 64;

/** Between the server's name and the tool's: `github__create_issue`. */
export const TOOL_NAME_SEPARATOR = "__";

/** Letters, digits, `_` and `-` stay; every other character becomes `_`. */
function sanitize(part: string): string {
  const cleaned = part.replace(/[^A-Za-z0-9_-]/g, "_");
  return cleaned === "" ? "_" : cleaned;
}

function shortHash(server: string, tool: string): string {
  return createHash("sha256").update(`${server}\u0000${tool}`).digest("hex").slice(0, 8);
}

/** A server's tool as listed, before it is named for the model. */
export interface ListedToolName {
  readonly server: string;
  readonly tool: string;
}

/**
 * The names the model sees for every tool of every server: `<server>__<tool>`, where each part keeps
 * letters, digits, `_` and `-` and every other character becomes `_`. A name that would be longer
 * than 64 characters, or that another tool already has (two names that differ only in the
 * characters replaced), ends in `_` and 8 hex digits of the SHA-256 of the server's and the tool's
 * own names, cut so that the whole stays within 64. Names that needed no replacement are given
 * first (they keep their plain form), then the others, each group in the order of the server's
 * name, then the tool's: the same servers and tools always give the same names, whichever server
 * answered first.
 *
 * Returns the model's name for each `server`/`tool` pair, keyed `server\u0000tool`.
 */
export function namespacedToolNames(tools: readonly ListedToolName[]): Map<string, string> {
  // Names that needed no replacement are given first, so they keep their plain form.
  const replaced = (entry: ListedToolName): number =>
    sanitize(entry.server) === entry.server && sanitize(entry.tool) === entry.tool ? 0 : 1;
  const sorted = [...tools].sort(
    (left, right) => replaced(left) - replaced(right) || compare(left.server, right.server) || compare(left.tool, right.tool),
  );
  const taken = new Set<string>();
  const names = new Map<string, string>();
  for (const { server, tool } of sorted) {
    const key = `${server}\u0000${tool}`;
    if (names.has(key)) continue;
    let name = `${sanitize(server)}${TOOL_NAME_SEPARATOR}${sanitize(tool)}`;
    if (name.length > MAX_TOOL_NAME_LENGTH || taken.has(name)) {
      const suffix = `_${shortHash(server, tool)}`;
      name = `${name.slice(0, MAX_TOOL_NAME_LENGTH - suffix.length)}${suffix}`;
    }
    taken.add(name);
    names.set(key, name);
  }
  return names;
}

function compare(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
