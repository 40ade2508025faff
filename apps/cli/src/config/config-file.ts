import { z } from "zod";
import { usageError } from "../cli-error.js";
import { InputFileError, readInputFile } from "./input-file.js";
import type { NumericLimit } from "./numeric-limits.js";
import { describeRange, NUMERIC_LIMITS, withinLimit } from "./numeric-limits.js";

/** The providers the command can build. */
export const PROVIDER_NAMES = ["openai", "anthropic", "scripted"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** A numeric field in its accepted range; the message names the range, as the flag's does. */
function limitField(limit: NumericLimit) {
  return z
    .number()
    .refine((value) => withinLimit(limit, value), { error: (issue) => `must be ${describeRange(limit)}, got ${String(issue.input)}` })
    .optional();
}

/**
 * `~/.lash/config.json`: every field optional, unknown fields refused (a typo should not be
 * silently ignored). Relative paths (`script`, a `sqlite:` or `fs:` store) are relative to the file.
 */
export const configFileSchema = z.strictObject({
  provider: z.enum(PROVIDER_NAMES).optional(),
  model: z.string().min(1).optional(),
  baseUrl: z.url().optional(),
  store: z.string().min(1).optional(),
  script: z.string().min(1).optional(),
  maxContextTokens: limitField(NUMERIC_LIMITS.maxContextTokens),
  maxModelCalls: limitField(NUMERIC_LIMITS.maxModelCalls),
  maxTokens: limitField(NUMERIC_LIMITS.maxTokens),
  timeoutSeconds: limitField(NUMERIC_LIMITS.timeoutSeconds),
  requestTimeoutSeconds: limitField(NUMERIC_LIMITS.requestTimeoutSeconds),
  chunkTimeoutSeconds: limitField(NUMERIC_LIMITS.chunkTimeoutSeconds),
  allowedDirectories: z.array(z.string().min(1)).optional(),
  systemPrompt: z.string().optional(),
  /** MCP servers whose tools every session gets (checked in full by `parseMcpServers` of `@lash/mcp`). */
  mcpServers: z.record(z.string(), z.unknown()).optional(),
});
export type ConfigFile = z.infer<typeof configFileSchema>;

/**
 * Reads and validates a config file. A missing file is `undefined` unless `required` (a file named
 * with `--config` or `LASH_CONFIG`); a file that is not JSON, or has a bad field, is a usage error
 * naming the file and the field, and so is one that is not a regular file or is larger than
 * `MAX_INPUT_FILE_BYTES`.
 */
export async function readConfigFile(path: string, required: boolean): Promise<ConfigFile | undefined> {
  let text: string;
  try {
    text = await readInputFile(path, "the config file");
  } catch (error) {
    // No file (or a LASH_HOME that is not a folder: the store reports that one) means no settings.
    if (error instanceof InputFileError && error.problem === "missing" && !required) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw usageError(`the config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
      const field = [...issue.path, ...(keys.length === 1 ? keys : [])].join(".");
      return field === "" ? issue.message : `\`${field}\`: ${issue.message}`;
    });
    throw usageError(
      `the config file ${path} is invalid: ${problems.join("; ")}`,
      `fields: ${Object.keys(configFileSchema.shape).join(", ")}`,
    );
  }
  return parsed.data;
}
