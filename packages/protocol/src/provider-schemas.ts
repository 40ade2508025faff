import { z } from "zod";
import { jsonValueSchema } from "./json.js";
import { reasoningReplaySchema, responseMetaSchema, toolCallReplaySchema } from "./messages.js";

/**
 * Why a model call ended. `stop` and `tool_use` let the mode go on; the others end the turn
 * (`output_limit` → `incomplete`, `cancelled` → `cancelled`, the rest → `provider_error`). `unknown`
 * is a finish reason the adapter did not recognise: the call may have been cut off, so its text is
 * never taken as a finished answer. `content_filter` covers refusals too (the refusal text goes in
 * `terminalDiagnostic`).
 */
export const llmTerminalReasonSchema = z.enum([
  "stop",
  "tool_use",
  "output_limit",
  "context_overflow",
  "content_filter",
  "provider_error",
  "cancelled",
  "unknown",
]);
export type LlmTerminalReason = z.infer<typeof llmTerminalReasonSchema>;

/**
 * Token counts of one model call, as the provider reported them, each token counted once (ADR
 * 0016): the call's total is `inputTokens + outputTokens + reasoningTokens`. A count the provider
 * did not report is 0.
 */
export const llmUsageSchema = z.object({
  /** Prompt tokens. Whether they include `cachedInputTokens` is the provider's convention (`ModelProvider.inputUsageExcludesCachedTokens`). */
  inputTokens: z.number().int().default(0),
  /** Generated tokens, reasoning tokens left out. */
  outputTokens: z.number().int().default(0),
  /** Prompt tokens served from the provider's prompt cache. */
  cachedInputTokens: z.number().int().default(0),
  /** Tokens the model spent reasoning (billed as output; 0 for a model that does not report them). */
  reasoningTokens: z.number().int().default(0),
});
export type LlmUsage = z.infer<typeof llmUsageSchema>;

/** A block of a request message. */
export const llmBlockSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("text"),
    /** The text. */
    text: z.string(),
    /** The provider metadata the text came back with (assistant text only); absent for other text. */
    responseMeta: responseMetaSchema.optional(),
    /** Ask the provider to cache the prompt up to and including this block; absent = no breakpoint. */
    cacheBreakpoint: z.boolean().optional(),
  }),
  z.object({
    type: z.literal("image"),
    /** Index into `LlmRequest.attachments`. */
    attachmentIndex: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal("tool_call"),
    /** The call id the model gave the call; its `tool_result` carries the same id. */
    callId: z.string(),
    /** The tool's name. */
    toolName: z.string(),
    /** The arguments as the model produced them (possibly invalid JSON). */
    inputJson: z.string(),
    /** Provider data to send the call back with; absent when the provider gave none. */
    replay: toolCallReplaySchema.optional(),
  }),
  z.object({
    type: z.literal("tool_result"),
    /** The `callId` of the call this answers. */
    callId: z.string(),
    /** The result as the model reads it (a failure starts with `[Tool execution failed]`). */
    content: z.string(),
    /** The tool's name, for providers that want it with the result; absent when unknown. */
    toolName: z.string().optional(),
  }),
  z.object({
    type: z.literal("reasoning"),
    /** The reasoning text shown to the user (may be empty for encrypted or redacted reasoning). */
    text: z.string(),
    /** What the provider needs to receive the reasoning back; absent = display-only, never sent. */
    replay: reasoningReplaySchema.optional(),
  }),
]);
export type LlmBlock = z.infer<typeof llmBlockSchema>;

/** A message of a model request. Tool results travel in `user` messages. */
export const llmMessageSchema = z.object({
  /** Who speaks: the first `system` message is the system prompt. */
  role: z.enum(["user", "assistant", "system"]),
  /** The message's content, in order. */
  blocks: z.array(llmBlockSchema),
});
export type LlmMessage = z.infer<typeof llmMessageSchema>;

/** Binary content referenced by `image` blocks. */
export const llmAttachmentSchema = z.object({
  /** The MIME type of the bytes (`image/png`, ...). */
  mediaType: z.string(),
  /** The bytes. */
  data: z.custom<Uint8Array>((value) => value instanceof Uint8Array, { message: "expected a Uint8Array" }),
  /** The attachment store id, when the bytes came from one. */
  reference: z.string().optional(),
});
export type LlmAttachment = z.infer<typeof llmAttachmentSchema>;

/** A tool the model may call; `inputSchema` is a JSON Schema object. */
export const llmToolSpecSchema = z.object({
  /** The name the model calls the tool by (unique within a request). */
  name: z.string(),
  /** What the tool does, for the model. */
  description: z.string(),
  /** JSON Schema of the arguments object. */
  inputSchema: z.record(z.string(), jsonValueSchema),
});
export type LlmToolSpec = z.infer<typeof llmToolSpecSchema>;

/** Whether the model may (`auto`), must not (`none`) or must (`required`) call a tool. */
export const llmToolChoiceSchema = z.enum(["auto", "none", "required"]);
export type LlmToolChoice = z.infer<typeof llmToolChoiceSchema>;

/** Structured-output request: any JSON object, or one matching a JSON Schema. */
export const llmOutputSpecSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    /** A name for the schema (some providers require one). */
    name: z.string(),
    /** The JSON Schema the answer must match. */
    schema: z.record(z.string(), jsonValueSchema),
    /** Ask the provider to enforce the schema exactly where it can (default `true`). */
    strict: z.boolean().default(true),
  }),
]);
export type LlmOutputSpec = z.infer<typeof llmOutputSpecSchema>;

/** One model call. The system prompt, when any, is the first `system` message. */
export const llmRequestSchema = z.object({
  /** The model name to send (after `ModelProvider.resolveModel`); adapters fall back to their `defaultModel` for `""`. */
  model: z.string(),
  /** The conversation, oldest first. */
  messages: z.array(llmMessageSchema),
  /** Binary content that `image` blocks point at by index. */
  attachments: z.array(llmAttachmentSchema).default([]),
  /** The tools the model may call (none by default). */
  tools: z.array(llmToolSpecSchema).default([]),
  /** Default `auto`. */
  toolChoice: llmToolChoiceSchema.default("auto"),
  /** A variant of the model (a reasoning effort, ...), one of `ModelProvider.supportedVariants`; absent = the model's default. */
  modelVariant: z.string().optional(),
  /** The session the call runs for (providers may use it as a cache or routing key); absent outside a session. */
  sessionId: z.string().optional(),
  /** Structured output; absent = free text. */
  outputSpec: llmOutputSpecSchema.optional(),
});
export type LlmRequest = z.infer<typeof llmRequestSchema>;

/** A part of a model response. */
export const llmOutputPartSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("text"),
    /** Answer text. */
    text: z.string(),
    /** The provider's item id, status and phase; absent when the provider has none. */
    responseMeta: responseMetaSchema.optional(),
  }),
  z.object({
    type: z.literal("reasoning"),
    /** Reasoning text to show (empty for encrypted or redacted reasoning). */
    text: z.string(),
    /** What the provider needs to receive it back; absent = display-only. */
    replay: reasoningReplaySchema.optional(),
  }),
  z.object({
    type: z.literal("tool_call"),
    /** The provider's call id (unique within the response). */
    callId: z.string(),
    /** The tool's name; `""` when the provider sent none (the runtime reports an unknown tool). */
    toolName: z.string(),
    /** The arguments exactly as streamed (may be invalid JSON; the runtime handles that). */
    inputJson: z.string(),
    /** Provider data to send the call back with; absent when the provider gave none. */
    replay: toolCallReplaySchema.optional(),
  }),
]);
export type LlmOutputPart = z.infer<typeof llmOutputPartSchema>;

/**
 * The final result of a model call. It may be empty or partial when the provider only streamed: the
 * runtime rebuilds the missing parts from the stream.
 */
export const llmResponseSchema = z.object({
  /** The answer text: the text parts joined. `""` lets the runtime take it from the streamed deltas. */
  fullText: z.string().default(""),
  /** Text, reasoning and tool calls in the order the model produced them; `[]` lets the runtime rebuild them from the stream. */
  parts: z.array(llmOutputPartSchema).default([]),
  /** The call's usage; all zero lets the runtime use the last streamed `usage` event. */
  usage: llmUsageSchema.default({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 }),
  /** Why the call ended. Absent reads as `unknown`, which ends the turn: an adapter always sets it. */
  terminalReason: llmTerminalReasonSchema.default("unknown"),
  /** A human-readable note on the terminal reason (`"The response reached max_tokens."`); absent when there is nothing to add. */
  terminalDiagnostic: z.string().optional(),
  /** The provider's raw usage object, kept for audits; absent when the provider sent none. */
  providerUsage: jsonValueSchema.optional(),
  /** The request body as sent, when the adapter keeps it for debugging; absent otherwise. */
  requestBody: z.string().optional(),
  /** A one-line summary of the HTTP exchange (`"HTTP 200 request-id req_1"`); absent when the adapter gives none. */
  httpSummary: z.string().optional(),
});
export type LlmResponse = z.infer<typeof llmResponseSchema>;

/**
 * What a provider streams while a call runs, in arrival order. The stream is a side channel: the
 * final `LlmResponse` is still returned, and wins over the stream where both carry the same data.
 * `usage` replaces (never adds to) earlier streamed usage.
 */
export const llmStreamEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("delta"),
    /** The next piece of answer text. */
    text: z.string(),
  }),
  z.object({
    type: z.literal("reasoning_delta"),
    /** The next piece of reasoning text. */
    text: z.string(),
  }),
  z.object({
    type: z.literal("part"),
    /** A whole part: a finished tool call, a text or reasoning item with its metadata. */
    part: llmOutputPartSchema,
  }),
  z.object({
    type: z.literal("usage"),
    /** The call's usage so far (cumulative: it replaces the previous `usage` event). */
    usage: llmUsageSchema,
  }),
  z.object({
    type: z.literal("retry_status"),
    /** Whole seconds the runtime waits before the next attempt. */
    waitSeconds: z.number().int().nonnegative(),
    /** The 1-based number of the attempt that failed. */
    attempt: z.number().int().positive(),
    /** How many attempts the retry policy allows. */
    maxAttempts: z.number().int().positive(),
    /** The failure's message. */
    reason: z.string(),
  }),
]);
export type LlmStreamEvent = z.infer<typeof llmStreamEventSchema>;

/**
 * Broad class of a provider failure (decides retry and terminal reason with the status):
 * `transport` (no response: refused, reset, DNS), `timeout` (a request or chunk timeout fired),
 * `http` (an error status), `stream` (a stream that broke, was cut, or held malformed data), `auth`,
 * `validation` (the request was refused as invalid, context overflow included), `quota`,
 * `unsupported` (unknown model or feature), `unknown`.
 */
export const providerFailureKindSchema = z.enum([
  "transport",
  "timeout",
  "http",
  "stream",
  "auth",
  "validation",
  "quota",
  "unsupported",
  "unknown",
]);
export type ProviderFailureKind = z.infer<typeof providerFailureKindSchema>;

/**
 * A classified provider failure, carried by `ProviderCallError` (`@lash/provider-utils`'
 * `classifyProviderFailure` builds one from what an adapter knows).
 */
export const providerFailureSchema = z.object({
  /** The broad class of the failure. */
  kind: providerFailureKindSchema,
  /** What went wrong, for people (`"HTTP 429: Rate limit reached"`). */
  message: z.string(),
  /** Whether another attempt may succeed: the runtime retries only retryable failures. */
  retryable: z.boolean(),
  /** The HTTP status; absent when no response arrived (a transport failure, a timeout). */
  status: z.number().int().optional(),
  /** The provider's response body or stream fragment, cut to about 4000 characters; absent when there was none. */
  raw: z.string().optional(),
  /** A stable identifier: the provider's error code or type, or the adapter's own (`timeout`, `stream_truncated`); absent when neither gave one. */
  code: z.string().optional(),
  /** The terminal reason the failed call gives the turn (default `provider_error`). */
  terminalReason: llmTerminalReasonSchema.default("provider_error"),
  /** Response headers, names in lower case, credential headers removed; absent without a response. */
  headers: z.record(z.string(), z.string()).optional(),
  /** The wait the server asked for (`Retry-After`, `retry-after-ms`), in milliseconds; absent when it named none. */
  retryAfterMs: z.number().nonnegative().optional(),
  /** The request body, when the adapter keeps it for debugging; absent otherwise. */
  requestBody: z.string().optional(),
});
export type ProviderFailure = z.infer<typeof providerFailureSchema>;
