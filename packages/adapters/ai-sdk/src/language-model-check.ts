import { LashError } from "@lash/protocol";
import type { AiSdkLanguageModel } from "./language-model-types.js";

/**
 * The AI SDK language model specification versions this adapter implements: `"v4"` (AI SDK 7,
 * `@ai-sdk/provider` 4.x) and `"v3"` (AI SDK 6, `@ai-sdk/provider` 3.x).
 */
export const SUPPORTED_SPECIFICATION_VERSIONS: readonly string[] = Object.freeze(["v3", "v4"]);

/** The provider package releases whose models this adapter runs. */
const SUPPORTED_RELEASES =
  'for AI SDK 7 (`ai` 7.x, `@ai-sdk/provider` 4.x), whose models implement "v4", or for AI SDK 6 (`ai` 6.x, `@ai-sdk/provider` 3.x), whose models implement "v3"';

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`;
  return typeof value;
}

/** What to install instead: an older model needs a newer provider package, a newer one a newer adapter. */
function versionHint(version: string): string {
  if (version === "v1" || version === "v2") return ` Upgrade the provider package to its release ${SUPPORTED_RELEASES}.`;
  const number = /^v(\d+)$/.exec(version)?.[1];
  if (number !== undefined && Number(number) > 4) {
    return ` Upgrade @lash/adapter-ai-sdk to a release that supports "${version}", or use the provider package's release ${SUPPORTED_RELEASES}.`;
  }
  return ` Use the provider package's release ${SUPPORTED_RELEASES}.`;
}

/**
 * Checks that `model` is an AI SDK language model of a supported specification version
 * (`LanguageModelV4` or `LanguageModelV3`), before anything is called on it.
 *
 * @param context - names the value in messages (`"createAiSdkProvider(model)"`).
 * @throws LashError `unsupported_provider_version` when the model implements another
 *   specification version (the message names it, the supported ones and what to install);
 *   `invalid_configuration` when the value is not an AI SDK language model at all (a model id
 *   string, a provider function, an object without `doGenerate` / `doStream`).
 */
export function assertLanguageModel(model: unknown, context: string): asserts model is AiSdkLanguageModel {
  if (typeof model === "string") {
    throw new LashError(
      "invalid_configuration",
      `${context}: expected an AI SDK LanguageModel object, got ${describe(model)}. Model id strings are resolved by the AI SDK's global provider inside generateText/streamText; pass the provider's model instead, for example openai("gpt-4o").`,
    );
  }
  if (typeof model !== "object" || model === null) {
    const hint = typeof model === "function" ? ' (a provider function? call it with a model id, for example openai("gpt-4o"))' : "";
    throw new LashError("invalid_configuration", `${context}: expected an AI SDK LanguageModel object, got ${describe(model)}${hint}.`);
  }
  const record = model as Record<string, unknown>;
  const version = record.specificationVersion;
  if (typeof version !== "string") {
    throw new LashError(
      "invalid_configuration",
      `${context}: the value is not an AI SDK LanguageModel (it has no string specificationVersion).`,
    );
  }
  if (!SUPPORTED_SPECIFICATION_VERSIONS.includes(version)) {
    const name = typeof record.provider === "string" ? ` \`${record.provider}\`` : "";
    throw new LashError(
      "unsupported_provider_version",
      `${context}: the AI SDK language model${name} implements specification "${version}"; @lash/adapter-ai-sdk supports ${SUPPORTED_SPECIFICATION_VERSIONS.map((supported) => `"${supported}"`).join(", ")}.${versionHint(version)}`,
    );
  }
  const missing = ["doGenerate", "doStream"].filter((method) => typeof record[method] !== "function");
  if (missing.length > 0) {
    throw new LashError(
      "invalid_configuration",
      `${context}: the language model has no ${missing.join(" or ")} method, which specification "${version}" requires.`,
    );
  }
  for (const field of ["provider", "modelId"]) {
    if (typeof record[field] !== "string" || record[field] === "") {
      throw new LashError("invalid_configuration", `${context}: the language model's ${field} must be a non-empty string.`);
    }
  }
}
