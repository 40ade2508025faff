import { createAnthropicProvider } from "@lash/adapter-anthropic";
import { createOpenAIChatProvider } from "@lash/adapter-openai";
import { createScriptedConversationProvider } from "@lash/adapter-scripted";
import type { ModelProvider } from "@lash/protocol";
import { usageError } from "../cli-error.js";
import type { EffectiveConfig } from "../config/effective-config.js";
import { secondsToMs } from "../config/numeric-limits.js";
import { readScriptedConversation } from "./scripted-script.js";

/** The provider a command talks to, and the model it names. */
export interface ConfiguredProvider {
  readonly provider: ModelProvider;
  readonly model: string;
}

const HOW_TO_CONFIGURE = [
  "set OPENAI_API_KEY (or ANTHROPIC_API_KEY),",
  "or use a local OpenAI-compatible server: --provider openai --base-url http://127.0.0.1:11434/v1,",
  "or run offline: --provider scripted --script <file.json> (or `lash demo`);",
  "the same settings go in LASH_PROVIDER / LASH_BASE_URL / LASH_SCRIPT or ~/.lash/config.json",
].join("\n  ");

/**
 * The adapters' network timeouts from `--request-timeout` and `--chunk-timeout` (seconds; `0` turns
 * one off). The adapters' defaults of 300 s and 120 s, with the runtime's four attempts, could hold a
 * stalled server for many minutes; a caller who knows its server can cut that short.
 */
export function providerTimeouts(config: EffectiveConfig): { requestTimeoutMs: number | null; chunkTimeoutMs: number | null } {
  const toMs = (seconds: number): number | null => (seconds === 0 ? null : secondsToMs(seconds));
  return { requestTimeoutMs: toMs(config.requestTimeoutSeconds.value), chunkTimeoutMs: toMs(config.chunkTimeoutSeconds.value) };
}

/**
 * Builds the configured provider. No provider, or one without its key (OpenAI at its own URL,
 * Anthropic), is a usage error that says how to configure one.
 */
export async function createConfiguredProvider(config: EffectiveConfig): Promise<ConfiguredProvider> {
  const name = config.provider.value;
  if (name === undefined) throw usageError("no model provider is configured", HOW_TO_CONFIGURE);
  if (name === "scripted") {
    const path = config.script.value;
    if (path === undefined)
      throw usageError(
        "the scripted provider needs a script: --script <file.json>",
        "see `Scripted conversations` in the lash README for the format",
      );
    const conversation = await readScriptedConversation(path);
    const model =
      config.model.source.type === "default" ? (conversation.model ?? "scripted-model") : (config.model.value ?? "scripted-model");
    return { provider: createScriptedConversationProvider(conversation, { model }), model };
  }
  const model = config.model.value ?? "";
  const apiKey = config.apiKey.value;
  if (name === "openai") {
    // A local server (Ollama, llama.cpp, vLLM) usually needs no key; OpenAI itself does.
    if (apiKey === undefined && config.baseUrl.value === undefined)
      throw usageError("the openai provider needs OPENAI_API_KEY (or --base-url for a server without keys)", HOW_TO_CONFIGURE);
    return {
      provider: createOpenAIChatProvider({
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(config.baseUrl.value === undefined ? {} : { baseURL: config.baseUrl.value }),
        defaultModel: model,
        timeouts: providerTimeouts(config),
      }),
      model,
    };
  }
  if (apiKey === undefined) throw usageError("the anthropic provider needs ANTHROPIC_API_KEY", HOW_TO_CONFIGURE);
  return {
    provider: createAnthropicProvider({
      apiKey,
      ...(config.baseUrl.value === undefined ? {} : { baseURL: config.baseUrl.value }),
      defaultModel: model,
      timeouts: providerTimeouts(config),
    }),
    model,
  };
}
