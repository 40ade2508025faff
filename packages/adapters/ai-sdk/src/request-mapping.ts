import type { LlmOutputSpec, LlmRequest, LlmToolChoice, LlmToolSpec } from "@lash/protocol";
import type {
  AiSdkCallOptions,
  AiSdkCallOptionsV3,
  AiSdkCallOptionsV4,
  AiSdkCallSettings,
  AiSdkFilePart,
  AiSdkFunctionTool,
  AiSdkPrompt,
  AiSdkProviderOptionsRecord,
} from "./language-model-types.js";
import { type PromptMappingOptions, promptV3FromMessages, promptV4FromMessages } from "./prompt-mapping.js";

/** Everything besides the request that shapes the call options. */
export interface CallMappingOptions extends PromptMappingOptions {
  readonly maxOutputTokens?: number;
  readonly settings?: AiSdkCallSettings;
  /** Provider options for the whole call, or a function of the request that returns them. */
  readonly providerOptions?: AiSdkProviderOptionsRecord | ((request: LlmRequest) => AiSdkProviderOptionsRecord | undefined);
}

function functionTool(tool: LlmToolSpec): AiSdkFunctionTool {
  return { type: "function", name: tool.name, description: tool.description, inputSchema: tool.inputSchema };
}

function toolChoice(choice: LlmToolChoice): NonNullable<AiSdkCallOptions<AiSdkFilePart>["toolChoice"]> {
  return { type: choice };
}

function responseFormat(spec: LlmOutputSpec): NonNullable<AiSdkCallOptions<AiSdkFilePart>["responseFormat"]> {
  if (spec.type === "json_object") return { type: "json" };
  // The AI SDK has no `strict` flag: providers that support strict schemas read it from their own options.
  return { type: "json", name: spec.name, schema: spec.schema };
}

/** The call options around a prompt already built for the model's generation. */
function callOptionsWithPrompt<File extends AiSdkFilePart>(
  prompt: AiSdkPrompt<File>,
  request: LlmRequest,
  abortSignal: AbortSignal,
  options: CallMappingOptions,
): AiSdkCallOptions<File> {
  const callOptions: AiSdkCallOptions<File> = { ...options.settings, prompt, abortSignal };
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

/**
 * Maps a lash request to `"v3"` call options: the prompt (see `promptV3FromMessages`), the tools as
 * function tools with their JSON Schema, the tool choice (omitted with the tools when there are
 * none), the response format from `outputSpec`, the output limit, settings, provider options and
 * the abort signal. `includeRawChunks` stays off: raw chunks are not used.
 */
export function callOptionsV3FromRequest(
  request: LlmRequest,
  abortSignal: AbortSignal,
  options: CallMappingOptions = {},
): AiSdkCallOptionsV3 {
  const prompt = promptV3FromMessages(request.messages, request.attachments ?? [], options);
  return callOptionsWithPrompt(prompt, request, abortSignal, options);
}

/**
 * Maps a lash request to `"v4"` call options: the same members as `callOptionsV3FromRequest`, with
 * the `"v4"` prompt (see `promptV4FromMessages`).
 */
export function callOptionsV4FromRequest(
  request: LlmRequest,
  abortSignal: AbortSignal,
  options: CallMappingOptions = {},
): AiSdkCallOptionsV4 {
  const prompt = promptV4FromMessages(request.messages, request.attachments ?? [], options);
  return callOptionsWithPrompt(prompt, request, abortSignal, options);
}
