import type {
  LanguageModelV3CallOptions,
  LanguageModelV3FunctionTool,
  SharedV3ProviderOptions,
} from "@ai-sdk/provider";
import type { LlmOutputSpec, LlmRequest, LlmToolChoice, LlmToolSpec } from "@lash/protocol";
import { promptFromMessages, type PromptMappingOptions } from "./prompt-mapping.js";

/** Sampling settings passed to every call as they are (see `LanguageModelV3CallOptions`). */
export type AiSdkCallSettings = Pick<
  LanguageModelV3CallOptions,
  "temperature" | "topP" | "topK" | "presencePenalty" | "frequencyPenalty" | "stopSequences" | "seed" | "headers"
>;

/** Everything besides the request that shapes the V3 call options. */
export interface CallMappingOptions extends PromptMappingOptions {
  readonly maxOutputTokens?: number;
  readonly settings?: AiSdkCallSettings;
  /** Provider options for the whole call, or a function of the request that returns them. */
  readonly providerOptions?: SharedV3ProviderOptions | ((request: LlmRequest) => SharedV3ProviderOptions | undefined);
}

function functionTool(tool: LlmToolSpec): LanguageModelV3FunctionTool {
  return {
    type: "function",
    name: tool.name,
    description: tool.description,
    // lash validated the schema as a JSON object; V3 types it as a JSON Schema 7 document.
    inputSchema: tool.inputSchema as LanguageModelV3FunctionTool["inputSchema"],
  };
}

function toolChoice(choice: LlmToolChoice): NonNullable<LanguageModelV3CallOptions["toolChoice"]> {
  return { type: choice };
}

function responseFormat(spec: LlmOutputSpec): NonNullable<LanguageModelV3CallOptions["responseFormat"]> {
  if (spec.type === "json_object") return { type: "json" };
  // V3 has no `strict` flag: providers that support strict schemas read it from their own options.
  return { type: "json", name: spec.name, schema: spec.schema as NonNullable<Extract<LanguageModelV3CallOptions["responseFormat"], { type: "json" }>["schema"]> };
}

/**
 * Maps a lash request to V3 call options: the prompt (see `promptFromMessages`), the tools as
 * function tools with their JSON Schema, the tool choice (omitted with the tools when there are
 * none), the response format from `outputSpec`, the output limit, settings, provider options and
 * the abort signal. `includeRawChunks` stays off: raw chunks are not used.
 */
export function callOptionsFromRequest(
  request: LlmRequest,
  abortSignal: AbortSignal,
  options: CallMappingOptions = {},
): LanguageModelV3CallOptions {
  const callOptions: LanguageModelV3CallOptions = {
    ...options.settings,
    prompt: promptFromMessages(request.messages, request.attachments ?? [], options),
    abortSignal,
  };
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    callOptions.tools = tools.map(functionTool);
    callOptions.toolChoice = toolChoice(request.toolChoice ?? "auto");
  }
  if (request.outputSpec !== undefined) callOptions.responseFormat = responseFormat(request.outputSpec);
  if (options.maxOutputTokens !== undefined) callOptions.maxOutputTokens = options.maxOutputTokens;
  const providerOptions = typeof options.providerOptions === "function" ? options.providerOptions(request) : options.providerOptions;
  if (providerOptions !== undefined) callOptions.providerOptions = providerOptions;
  return callOptions;
}
