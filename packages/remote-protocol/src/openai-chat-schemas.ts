import { jsonValueSchema, turnOutcomeSchema } from "@lash/protocol";
import { z } from "zod";
import { sessionMetadataSchema } from "./session-schemas.js";

/*
 * `POST /v1/chat/completions`: OpenAI's Chat Completions wire format, as far as the lash server
 * speaks it. Requests are open (clients send many fields lash has no use for: sampling settings,
 * `store`, `prompt_cache_key`, ...), but every field the server reads is validated here. Responses
 * and errors follow OpenAI's shapes, because the clients that call this route parse them.
 */

/**
 * The header that names the session a request continues, and that every answer carries with the
 * session it ran in. `metadata.session_id` of the body does the same for clients that cannot set headers.
 */
export const LASH_SESSION_ID_HEADER = "x-lash-session-id";

/** The metadata key of the body that names the session a request continues. */
export const SESSION_ID_METADATA_KEY = "session_id";

/** Set on an answer whose turn waits for approval: the ids of the open requests, comma-separated. */
export const LASH_AWAITING_APPROVAL_HEADER = "x-lash-awaiting-approval";

/** At most this many messages in one request. */
export const MAX_CHAT_MESSAGES = 4096;
/** At most this many content parts in one message. */
export const MAX_CHAT_CONTENT_PARTS = 256;
/** The longest `model` (an agent profile's name), in characters. */
export const MAX_CHAT_MODEL_LENGTH = 200;

/** The roles a Chat Completions message may have. */
export const CHAT_MESSAGE_ROLES = ["system", "developer", "user", "assistant", "tool", "function"] as const;

/**
 * One part of a message's content. The server reads `text` parts (and an assistant's `refusal`);
 * the other kinds (`image_url`, `input_audio`, `file`) are accepted here so that the server can
 * refuse them by name.
 */
export const chatContentPartSchema = z
  .looseObject({
    type: z.string().min(1).max(64),
    text: z.string().optional(),
    refusal: z.string().optional(),
  })
  .refine((part) => part.type !== "text" || part.text !== undefined, { error: "a text part needs `text`", path: ["text"] });
export type ChatContentPart = z.infer<typeof chatContentPartSchema>;

/** One message of `messages`. */
export const chatMessageSchema = z.looseObject({
  role: z.enum(CHAT_MESSAGE_ROLES),
  /** A string, or content parts; `null` for an assistant message that only calls tools. */
  content: z.union([z.string(), z.array(chatContentPartSchema).max(MAX_CHAT_CONTENT_PARTS)]).nullish(),
  /** Tool calls of an assistant message (refused: lash runs its own tools on the server). */
  tool_calls: z.array(z.unknown()).nullish(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/**
 * `POST /v1/chat/completions`. Unknown fields are allowed (OpenAI's clients send many); the ones
 * the server reads are checked: `model` (an agent profile), `messages`, `stream`,
 * `stream_options.include_usage`, `n`, `tools` and `functions` (refused unless empty),
 * `response_format` (only `text`), `metadata` (its `session_id` continues a session, the rest
 * labels a new one: at most 16 string entries, as OpenAI's own limit) and `user`.
 */
export const chatCompletionRequestSchema = z.looseObject({
  /** The agent profile to run (its name, as the server's configuration spells it). */
  model: z.string().min(1).max(MAX_CHAT_MODEL_LENGTH),
  /** The conversation; its last message is the user's new input. */
  messages: z.array(chatMessageSchema).min(1).max(MAX_CHAT_MESSAGES),
  /** Stream the answer as `chat.completion.chunk` server-sent events. */
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  /** How many choices: only 1. */
  n: z.number().int().nullish(),
  tools: z.array(z.unknown()).nullish(),
  functions: z.array(z.unknown()).nullish(),
  response_format: z.looseObject({ type: z.string().max(64) }).nullish(),
  metadata: sessionMetadataSchema.nullish(),
  /** OpenAI's end-user identifier: accepted, not used (it does not select a session). */
  user: z.string().max(256).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** Why a choice ended: a finished turn is `stop`, an output limit `length`, a refusal `content_filter`. */
export const CHAT_FINISH_REASONS = ["stop", "length", "content_filter"] as const;
export type ChatFinishReason = (typeof CHAT_FINISH_REASONS)[number];

const tokenCount = z.number().int().nonnegative();

/** Usage in OpenAI's terms: prompt tokens include cached ones, completion tokens include reasoning. */
export const chatCompletionUsageSchema = z.object({
  prompt_tokens: tokenCount,
  completion_tokens: tokenCount,
  total_tokens: tokenCount,
  prompt_tokens_details: z.object({ cached_tokens: tokenCount }),
  completion_tokens_details: z.object({ reasoning_tokens: tokenCount }),
});
export type ChatCompletionUsage = z.infer<typeof chatCompletionUsageSchema>;

/**
 * What lash adds to a completion (a field OpenAI's clients ignore): the session and turn, and how
 * the turn ended, including a stop OpenAI's format cannot say (`awaiting_approval` with its requests).
 */
export const chatCompletionLashSchema = z.object({
  session_id: z.string(),
  turn_id: z.string(),
  outcome: turnOutcomeSchema,
});
export type ChatCompletionLash = z.infer<typeof chatCompletionLashSchema>;

/** The answer of a request without `stream`. */
export const chatCompletionSchema = z.object({
  /** `chatcmpl-` and the turn's id. */
  id: z.string(),
  object: z.literal("chat.completion"),
  /** Unix seconds. */
  created: z.number().int(),
  /** The agent profile that answered. */
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      message: z.object({
        role: z.literal("assistant"),
        content: z.string(),
        refusal: z.null(),
        /** The model's reasoning text, when it streamed any (the field compatible servers use). */
        reasoning_content: z.string().optional(),
      }),
      logprobs: z.null(),
      finish_reason: z.enum(CHAT_FINISH_REASONS),
    }),
  ),
  usage: chatCompletionUsageSchema,
  lash: chatCompletionLashSchema,
});
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

/** One server-sent event of a streamed completion (`data: {...}`; the stream ends with `data: [DONE]`). */
export const chatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number().int(),
  model: z.string(),
  /** One choice per chunk; none in the last chunk, which carries the usage (`stream_options.include_usage`). */
  choices: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      delta: z.object({
        role: z.literal("assistant").optional(),
        content: z.string().optional(),
        reasoning_content: z.string().optional(),
      }),
      logprobs: z.null(),
      finish_reason: z.enum(CHAT_FINISH_REASONS).nullable(),
    }),
  ),
  /** `null` on every chunk but the last when usage was asked for; absent otherwise. */
  usage: chatCompletionUsageSchema.nullable().optional(),
  /** On the chunk with the finish reason. */
  lash: chatCompletionLashSchema.optional(),
});
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

/**
 * OpenAI's error shape, which this route answers with (its clients read `error.message` and
 * `error.code`): `type` is OpenAI's class (`invalid_request_error`, `authentication_error`,
 * `permission_error`, `rate_limit_error`, `server_error`), `code` lash's error code (an unknown
 * model is `model_not_found`), `details` lash's structured facts when there are any. A streamed
 * completion that fails after it started sends the same object as its last `data:` event.
 */
export const openAiErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
    details: z.record(z.string(), jsonValueSchema).optional(),
  }),
});
export type OpenAiErrorBody = z.infer<typeof openAiErrorBodySchema>;
