// What AI SDK language models return, as far as the adapter reads it, written out here for the
// reason given in language-model-types.ts. The parts read here have the same shape in `"v3"` and
// `"v4"`; `"v4"` adds parts the adapter does not keep (`ping`, `custom`, `reasoning-file`, text
// citations) and the `interrupted` finish reason.

/** Provider metadata by provider namespace (`SharedV3ProviderMetadata` / `SharedV4ProviderMetadata`). */
export type AiSdkProviderMetadata = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/**
 * Token usage of one call (`LanguageModelV3Usage` / `LanguageModelV4Usage`, identical). Totals
 * include the cache reads and writes (input) and the reasoning tokens (output).
 */
export interface AiSdkUsage {
  readonly inputTokens?: {
    readonly total?: number | undefined;
    readonly noCache?: number | undefined;
    readonly cacheRead?: number | undefined;
    readonly cacheWrite?: number | undefined;
  };
  readonly outputTokens?: {
    readonly total?: number | undefined;
    readonly text?: number | undefined;
    readonly reasoning?: number | undefined;
  };
  /** The provider's own usage object. */
  readonly raw?: unknown;
}

/**
 * Why the model stopped: the unified reason (`stop`, `length`, `content-filter`, `tool-calls`,
 * `error`, `other`, and in `"v4"` also `interrupted`) and the provider's raw reason.
 */
export interface AiSdkFinishReason {
  readonly unified?: string;
  readonly raw?: string | undefined;
}

/** Any stream part or content item: what the adapter does not read only has to have a `type`. */
export interface AiSdkStreamPartLike {
  readonly type: string;
}

/** A tool call the model made (a stream part, and a content item of `doGenerate`). */
export interface AiSdkToolCall {
  readonly type: "tool-call";
  readonly toolCallId: string;
  readonly toolName: string;
  /** The arguments as JSON text. */
  readonly input: string;
  readonly providerExecuted?: boolean;
  readonly providerMetadata?: AiSdkProviderMetadata;
}

/** The stream parts the adapter reads. */
export type AiSdkStreamPart =
  | { readonly type: "text-start"; readonly id: string }
  | { readonly type: "text-delta"; readonly id: string; readonly delta: string }
  | { readonly type: "reasoning-start"; readonly id: string; readonly providerMetadata?: AiSdkProviderMetadata }
  | { readonly type: "reasoning-delta"; readonly id: string; readonly delta: string; readonly providerMetadata?: AiSdkProviderMetadata }
  | { readonly type: "reasoning-end"; readonly id: string; readonly providerMetadata?: AiSdkProviderMetadata }
  | {
      readonly type: "tool-input-start";
      readonly id: string;
      readonly toolName: string;
      /** How the input pieces are encoded (JSON when absent); the final `tool-call` input is JSON either way. */
      readonly inputEncoding?: "json" | "text";
      readonly providerExecuted?: boolean;
    }
  | { readonly type: "tool-input-delta"; readonly id: string; readonly delta: string }
  | AiSdkToolCall
  | { readonly type: "finish"; readonly usage: AiSdkUsage; readonly finishReason: AiSdkFinishReason | string }
  | { readonly type: "error"; readonly error: unknown };

/** The `doGenerate` content items the adapter reads. */
export type AiSdkContent =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "reasoning"; readonly text: string; readonly providerMetadata?: AiSdkProviderMetadata }
  | AiSdkToolCall;

/** What `doGenerate` resolves to (request, response and warnings are not used). */
export interface AiSdkGenerateResult {
  readonly content: readonly AiSdkStreamPartLike[];
  readonly finishReason: AiSdkFinishReason | string;
  readonly usage: AiSdkUsage;
}

const READ_STREAM_PARTS: ReadonlySet<string> = new Set<AiSdkStreamPart["type"]>([
  "text-start",
  "text-delta",
  "reasoning-start",
  "reasoning-delta",
  "reasoning-end",
  "tool-input-start",
  "tool-input-delta",
  "tool-call",
  "finish",
  "error",
]);

const READ_CONTENT: ReadonlySet<string> = new Set<AiSdkContent["type"]>(["text", "reasoning", "tool-call"]);

/**
 * The part as one the adapter reads, or `undefined` for the others. The specification fixes the
 * shape of each part type, so its `type` is what tells the shape; nothing else is checked.
 */
export function readableStreamPart(part: AiSdkStreamPartLike): AiSdkStreamPart | undefined {
  return READ_STREAM_PARTS.has(part.type) ? (part as AiSdkStreamPart) : undefined;
}

/** The content item as one the adapter reads, or `undefined` for the others (as `readableStreamPart`). */
export function readableContent(content: AiSdkStreamPartLike): AiSdkContent | undefined {
  return READ_CONTENT.has(content.type) ? (content as AiSdkContent) : undefined;
}
