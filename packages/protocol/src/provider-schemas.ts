import { z } from "zod";
import { jsonValueSchema } from "./json.js";
import { reasoningReplaySchema, responseMetaSchema, toolCallReplaySchema } from "./messages.js";

/**
 * Why a model call ended. `stop`, `tool_use` and `unknown` let the mode go on; the others end the
 * turn (`output_limit` → `incomplete`, `cancelled` → `cancelled`, the rest → `provider_error`).
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

/** Token counts of one model call, as the provider reported them. */
export const llmUsageSchema = z.object({
  inputTokens: z.number().int().default(0),
  outputTokens: z.number().int().default(0),
  cachedInputTokens: z.number().int().default(0),
  reasoningTokens: z.number().int().default(0),
});
export type LlmUsage = z.infer<typeof llmUsageSchema>;

/** A block of a request message. */
export const llmBlockSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("text"),
    text: z.string(),
    responseMeta: responseMetaSchema.optional(),
    /** Ask the provider to cache the prompt up to and including this block. */
    cacheBreakpoint: z.boolean().optional(),
  }),
  z.object({
    type: z.literal("image"),
    /** Index into `LlmRequest.attachments`. */
    attachmentIndex: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal("tool_call"),
    callId: z.string(),
    toolName: z.string(),
    inputJson: z.string(),
    replay: toolCallReplaySchema.optional(),
  }),
  z.object({
    type: z.literal("tool_result"),
    callId: z.string(),
    content: z.string(),
    toolName: z.string().optional(),
  }),
  z.object({
    type: z.literal("reasoning"),
    text: z.string(),
    replay: reasoningReplaySchema.optional(),
  }),
]);
export type LlmBlock = z.infer<typeof llmBlockSchema>;

export const llmMessageSchema = z.object({
  role: z.enum(["user", "assistant", "system"]),
  blocks: z.array(llmBlockSchema),
});
export type LlmMessage = z.infer<typeof llmMessageSchema>;

/** Binary content referenced by `image` blocks. */
export const llmAttachmentSchema = z.object({
  mediaType: z.string(),
  data: z.custom<Uint8Array>((value) => value instanceof Uint8Array, { message: "expected a Uint8Array" }),
  /** The attachment store id, when the bytes came from one. */
  reference: z.string().optional(),
});
export type LlmAttachment = z.infer<typeof llmAttachmentSchema>;

/** A tool the model may call; `inputSchema` is a JSON Schema object. */
export const llmToolSpecSchema = z.object({
  name: z.string(),
  description: z.string(),
  inputSchema: z.record(z.string(), jsonValueSchema),
});
export type LlmToolSpec = z.infer<typeof llmToolSpecSchema>;

export const llmToolChoiceSchema = z.enum(["auto", "none", "required"]);
export type LlmToolChoice = z.infer<typeof llmToolChoiceSchema>;

/** Structured-output request: any JSON object, or one matching a JSON Schema. */
export const llmOutputSpecSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string(),
    schema: z.record(z.string(), jsonValueSchema),
    strict: z.boolean().default(true),
  }),
]);
export type LlmOutputSpec = z.infer<typeof llmOutputSpecSchema>;

/** One model call. The system prompt, when any, is the first `system` message. */
export const llmRequestSchema = z.object({
  model: z.string(),
  messages: z.array(llmMessageSchema),
  attachments: z.array(llmAttachmentSchema).default([]),
  tools: z.array(llmToolSpecSchema).default([]),
  toolChoice: llmToolChoiceSchema.default("auto"),
  modelVariant: z.string().optional(),
  /** The session the call runs for (providers may use it as a cache or routing key). */
  sessionId: z.string().optional(),
  outputSpec: llmOutputSpecSchema.optional(),
});
export type LlmRequest = z.infer<typeof llmRequestSchema>;

/** A part of a model response. */
export const llmOutputPartSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string(), responseMeta: responseMetaSchema.optional() }),
  z.object({ type: z.literal("reasoning"), text: z.string(), replay: reasoningReplaySchema.optional() }),
  z.object({
    type: z.literal("tool_call"),
    callId: z.string(),
    toolName: z.string(),
    /** The arguments exactly as streamed (may be invalid JSON; the runtime handles that). */
    inputJson: z.string(),
    replay: toolCallReplaySchema.optional(),
  }),
]);
export type LlmOutputPart = z.infer<typeof llmOutputPartSchema>;

/**
 * The final result of a model call. It may be empty or partial when the provider only streamed: the
 * runtime rebuilds the missing parts from the stream.
 */
export const llmResponseSchema = z.object({
  fullText: z.string().default(""),
  parts: z.array(llmOutputPartSchema).default([]),
  usage: llmUsageSchema.default({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 }),
  terminalReason: llmTerminalReasonSchema.default("unknown"),
  terminalDiagnostic: z.string().optional(),
  /** The provider's raw usage object, kept for audits. */
  providerUsage: jsonValueSchema.optional(),
  requestBody: z.string().optional(),
  httpSummary: z.string().optional(),
});
export type LlmResponse = z.infer<typeof llmResponseSchema>;

/**
 * What a provider streams while a call runs, in arrival order. The stream is a side channel: the
 * final `LlmResponse` is still returned, and wins over the stream where both carry the same data.
 * `usage` replaces (never adds to) earlier streamed usage.
 */
export const llmStreamEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("delta"), text: z.string() }),
  z.object({ type: z.literal("reasoning_delta"), text: z.string() }),
  z.object({ type: z.literal("part"), part: llmOutputPartSchema }),
  z.object({ type: z.literal("usage"), usage: llmUsageSchema }),
  z.object({
    type: z.literal("retry_status"),
    waitSeconds: z.number().int().nonnegative(),
    attempt: z.number().int().positive(),
    maxAttempts: z.number().int().positive(),
    reason: z.string(),
  }),
]);
export type LlmStreamEvent = z.infer<typeof llmStreamEventSchema>;

/** Broad class of a provider failure (decides retry and terminal reason with the status). */
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

/** A classified provider failure (see `classifyProviderFailure`). */
export const providerFailureSchema = z.object({
  kind: providerFailureKindSchema,
  message: z.string(),
  retryable: z.boolean(),
  status: z.number().int().optional(),
  raw: z.string().optional(),
  code: z.string().optional(),
  terminalReason: llmTerminalReasonSchema.default("provider_error"),
  headers: z.record(z.string(), z.string()).optional(),
  /** The server's `Retry-After`, in milliseconds. */
  retryAfterMs: z.number().nonnegative().optional(),
  requestBody: z.string().optional(),
});
export type ProviderFailure = z.infer<typeof providerFailureSchema>;
