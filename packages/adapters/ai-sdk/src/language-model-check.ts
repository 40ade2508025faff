import type { LanguageModelV3 } from "@ai-sdk/provider";
import { LashError } from "@lash/protocol";

/** The AI SDK language model specification versions this adapter implements. */
export const SUPPORTED_SPECIFICATION_VERSIONS: readonly string[] = Object.freeze(["v3"]);

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`;
  return typeof value;
}

function versionHint(version: string): string {
  if (version === "v1" || version === "v2") {
    return " Upgrade the provider package to its release for AI SDK 6 (`ai` 6.x, `@ai-sdk/provider` 3.x), whose models implement \"v3\".";
  }
  return " Use the provider package's release for AI SDK 6 (`ai` 6.x, `@ai-sdk/provider` 3.x), whose models implement \"v3\".";
}

/**
 * Checks that `model` is an AI SDK `LanguageModelV3`, before anything is called on it.
 *
 * @param context - names the value in messages (`"createAiSdkProvider(model)"`).
 * @throws LashError `unsupported_provider_version` when the model implements another
 *   specification version (the message names it and the supported ones); `invalid_configuration`
 *   when the value is not an AI SDK language model at all (a model id string, a provider function,
 *   an object without `doGenerate` / `doStream`).
 */
export function assertLanguageModelV3(model: unknown, context: string): asserts model is LanguageModelV3 {
  if (typeof model === "string") {
    throw new LashError(
      "invalid_configuration",
      `${context}: expected an AI SDK LanguageModel object, got ${describe(model)}. Model id strings are resolved by the AI SDK's global provider inside generateText/streamText; pass the provider's model instead, for example openai("gpt-4o").`,
    );
  }
  if (typeof model !== "object" || model === null) {
    const hint = typeof model === "function" ? " (a provider function? call it with a model id, for example openai(\"gpt-4o\"))" : "";
    throw new LashError("invalid_configuration", `${context}: expected an AI SDK LanguageModel object, got ${describe(model)}${hint}.`);
  }
  const record = model as Record<string, unknown>;
  const version = record["specificationVersion"];
  if (typeof version !== "string") {
    throw new LashError(
      "invalid_configuration",
      `${context}: the value is not an AI SDK LanguageModel (it has no string specificationVersion).`,
    );
  }
  if (!SUPPORTED_SPECIFICATION_VERSIONS.includes(version)) {
    const name = typeof record["provider"] === "string" ? ` \`${record["provider"]}\`` : "";
    throw new LashError(
      "unsupported_provider_version",
      `${context}: the AI SDK language model${name} implements specification "${version}"; @lash/adapter-ai-sdk supports ${SUPPORTED_SPECIFICATION_VERSIONS.map((supported) => `"${supported}"`).join(", ")}.${versionHint(version)}`,
    );
  }
  const missing = ["doGenerate", "doStream"].filter((method) => typeof record[method] !== "function");
  if (missing.length > 0) {
    throw new LashError("invalid_configuration", `${context}: the language model has no ${missing.join(" or ")} method, which specification "v3" requires.`);
  }
  for (const field of ["provider", "modelId"]) {
    if (typeof record[field] !== "string" || record[field] === "") {
      throw new LashError("invalid_configuration", `${context}: the language model's ${field} must be a non-empty string.`);
    }
  }
}
