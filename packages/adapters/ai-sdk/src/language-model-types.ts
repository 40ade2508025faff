// The parts of the AI SDK language model contract this adapter uses, written out here instead of
// imported from `@ai-sdk/provider`. The published declarations then name no `@ai-sdk/provider`
// type, so they read the same whichever major of it (3.x with `LanguageModelV3`, 4.x with
// `LanguageModelV4`) the application installed. Every type is structural and narrow: a model of
// either generation is assignable to it, and what the adapter sends is assignable to what the
// model's own types ask for.
import type { AiSdkGenerateResult, AiSdkStreamPartLike } from "./model-output-types.js";

/** A JSON value in provider options (the AI SDK's `JSONValue`; `undefined` members are allowed). */
export type AiSdkJsonValue = null | string | number | boolean | AiSdkJsonObject | AiSdkJsonValue[];

/** A JSON object in provider options. */
export interface AiSdkJsonObject {
  [key: string]: AiSdkJsonValue | undefined;
}

/**
 * Provider-specific options by provider namespace, for example
 * `{ openai: { reasoningEffort: "low" } }` (the AI SDK's `SharedV3ProviderOptions` /
 * `SharedV4ProviderOptions`, which have this shape in both generations).
 */
export type AiSdkProviderOptionsRecord = Record<string, AiSdkJsonObject>;

/**
 * A JSON Schema document as lash holds it (an object). The AI SDK types schemas as `JSONSchema7`,
 * whose members are all optional, so any object is accepted there.
 */
export interface AiSdkJsonSchema {
  [key: string]: unknown;
}

/** A text part of a prompt message (the same in both generations). */
export interface AiSdkTextPart {
  type: "text";
  text: string;
  providerOptions?: AiSdkProviderOptionsRecord;
}

/** A reasoning part of an assistant message (the same in both generations). */
export interface AiSdkReasoningPart {
  type: "reasoning";
  text: string;
  providerOptions?: AiSdkProviderOptionsRecord;
}

/** A tool call part of an assistant message; `input` is the parsed arguments. */
export interface AiSdkToolCallPart {
  type: "tool-call";
  toolCallId: string;
  toolName: string;
  input: unknown;
  providerOptions?: AiSdkProviderOptionsRecord;
}

/** A tool result part of a `tool` message. lash sends every result as text. */
export interface AiSdkToolResultPart {
  type: "tool-result";
  toolCallId: string;
  toolName: string;
  output: { type: "text"; value: string };
  providerOptions?: AiSdkProviderOptionsRecord;
}

/** A file part of a `"v3"` prompt: the bytes themselves are the `data`. */
export interface AiSdkFilePartV3 {
  type: "file";
  mediaType: string;
  data: Uint8Array;
  providerOptions?: AiSdkProviderOptionsRecord;
}

/** A file part of a `"v4"` prompt: `data` is tagged (`{ type: "data", data: bytes }`). */
export interface AiSdkFilePartV4 {
  type: "file";
  mediaType: string;
  data: { type: "data"; data: Uint8Array };
  providerOptions?: AiSdkProviderOptionsRecord;
}

/** The file part of either generation. */
export type AiSdkFilePart = AiSdkFilePartV3 | AiSdkFilePartV4;

/** A prompt message whose file parts have the shape `File`. */
export type AiSdkMessage<File extends AiSdkFilePart> =
  | { role: "system"; content: string }
  | { role: "user"; content: Array<AiSdkTextPart | File> }
  | { role: "assistant"; content: Array<AiSdkTextPart | File | AiSdkReasoningPart | AiSdkToolCallPart> }
  | { role: "tool"; content: AiSdkToolResultPart[] };

/** A prompt whose file parts have the shape `File`. */
export type AiSdkPrompt<File extends AiSdkFilePart> = Array<AiSdkMessage<File>>;

/** A tool the model may call, described by its JSON Schema. */
export interface AiSdkFunctionTool {
  type: "function";
  name: string;
  description?: string;
  inputSchema: AiSdkJsonSchema;
}

/** Sampling settings and extra headers sent with every call (the same members in both generations). */
export interface AiSdkCallSettings {
  temperature?: number;
  topP?: number;
  topK?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  stopSequences?: string[];
  seed?: number;
  headers?: Record<string, string | undefined>;
}

/** The options of one model call whose prompt file parts have the shape `File`. */
export interface AiSdkCallOptions<File extends AiSdkFilePart> extends AiSdkCallSettings {
  prompt: AiSdkPrompt<File>;
  maxOutputTokens?: number;
  responseFormat?: { type: "text" } | { type: "json"; schema?: AiSdkJsonSchema; name?: string; description?: string };
  tools?: AiSdkFunctionTool[];
  toolChoice?: { type: "auto" } | { type: "none" } | { type: "required" } | { type: "tool"; toolName: string };
  abortSignal?: AbortSignal;
  providerOptions?: AiSdkProviderOptionsRecord;
}

/** The call options of a `"v3"` model (`LanguageModelV3CallOptions`, the members lash sets). */
export type AiSdkCallOptionsV3 = AiSdkCallOptions<AiSdkFilePartV3>;

/** The call options of a `"v4"` model (`LanguageModelV4CallOptions`, the members lash sets). */
export type AiSdkCallOptionsV4 = AiSdkCallOptions<AiSdkFilePartV4>;

/** What `doStream` resolves to: the stream of parts (request and response details are not used). */
export interface AiSdkStreamResult {
  readonly stream: ReadableStream<AiSdkStreamPartLike>;
}

// The methods below are declared as methods on purpose: TypeScript compares method parameters in
// both directions, which lets a model's own (wider) call options type stand in for these.

/**
 * An AI SDK 6 language model (`LanguageModelV3` from `@ai-sdk/provider` 3.x), as far as the adapter
 * uses it.
 */
export interface AiSdkLanguageModelV3 {
  readonly specificationVersion: "v3";
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: AiSdkCallOptionsV3): PromiseLike<AiSdkGenerateResult>;
  doStream(options: AiSdkCallOptionsV3): PromiseLike<AiSdkStreamResult>;
}

/**
 * An AI SDK 7 language model (`LanguageModelV4` from `@ai-sdk/provider` 4.x), as far as the adapter
 * uses it.
 */
export interface AiSdkLanguageModelV4 {
  readonly specificationVersion: "v4";
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: AiSdkCallOptionsV4): PromiseLike<AiSdkGenerateResult>;
  doStream(options: AiSdkCallOptionsV4): PromiseLike<AiSdkStreamResult>;
}

/** A language model the adapter accepts: AI SDK 7 (`"v4"`) or AI SDK 6 (`"v3"`). */
export type AiSdkLanguageModel = AiSdkLanguageModelV3 | AiSdkLanguageModelV4;
