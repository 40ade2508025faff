import {
  approvalRequestSchema,
  outputStateSchema,
  tokenLedgerEntrySchema,
  tokenUsageSchema,
  toolCallRecordSchema,
  turnActivitySchema,
  turnIssueSchema,
  turnOutcomeSchema,
} from "@lash/protocol";
import { z } from "zod";
import { errorBodySchema } from "./error-schemas.js";

/** At most this many input items per turn. */
export const MAX_INPUT_ITEMS = 64;

/** At most this many image items per turn. */
export const MAX_IMAGE_ITEMS = 16;

/**
 * One item of a turn's input: text, or an image as base64 bytes (PNG, JPEG, GIF or WebP; the
 * server reads the format from the bytes and refuses anything else).
 */
export const turnInputItemSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("text"),
    /** The text. */
    text: z.string(),
  }),
  z.strictObject({
    type: z.literal("image"),
    /** The image file's bytes, base64-encoded (standard alphabet, padded). */
    data: z.base64().min(1),
  }),
]);
export type TurnInputItem = z.infer<typeof turnInputItemSchema>;

/** `POST /v1/sessions/{id}/turns`. Unknown fields are refused. */
export const turnRequestSchema = z.strictObject({
  /** The user's input: a string, or input items in order. */
  input: z.union([
    z.string(),
    z
      .array(turnInputItemSchema)
      .min(1)
      .max(MAX_INPUT_ITEMS)
      .refine((items) => items.filter((item) => item.type === "image").length <= MAX_IMAGE_ITEMS, {
        error: `at most ${MAX_IMAGE_ITEMS} images`,
      }),
  ]),
});
export type TurnRequest = z.infer<typeof turnRequestSchema>;

/**
 * A turn's result: the JSON answer of a turn request, of an approval decision and of a cancel, and
 * the data of the `result` event of a turn's event stream. Expected stops (limits, cancellation,
 * provider errors, waiting for approval) are outcomes here, never error responses.
 */
export const turnResultSchema = z.object({
  /** The turn's id (the same across the segments of a turn that waited for approval). */
  turnId: z.string(),
  /** The session the turn ran in. */
  sessionId: z.string(),
  /** The turn's index in the session (1 for the first). */
  turnIndex: z.number().int().nonnegative(),
  /** How it ended: `finished`, `handoff`, or `stopped` with a typed reason (`cancelled`, `awaiting_approval` with its requests, a limit, ...). */
  outcome: turnOutcomeSchema,
  /** The answer: the last prose of the turn, and how usable it is. */
  answer: z.object({ text: z.string(), state: outputStateSchema }),
  /** The tool calls the turn completed, in call order. */
  toolCalls: z.array(toolCallRecordSchema),
  /** The session's own model tokens for the turn. */
  usage: tokenUsageSchema,
  /** Tokens of child sessions (subagents) spent during the turn, per (source, model). */
  childrenUsage: z.array(tokenLedgerEntrySchema),
  /** Problems the turn recorded, in order (a finished turn may have some it recovered from). */
  issues: z.array(turnIssueSchema),
});
export type TurnResult = z.infer<typeof turnResultSchema>;

/** The data of a stream's `turn` event, its first: which turn the stream belongs to. */
export const turnStartedEventSchema = z.object({
  turnId: z.string(),
  sessionId: z.string(),
  /** True when this segment continues a turn that waited for approval. */
  resumed: z.boolean(),
});
export type TurnStartedEvent = z.infer<typeof turnStartedEventSchema>;

/**
 * The event names of a turn's `text/event-stream`. Every event has an `id:`; ids are whole numbers
 * that increase by one within a turn (its later segments go on counting), so `Last-Event-ID`
 * resumes exactly after the last event a client saw.
 *
 * | event | data | when |
 * | --- | --- | --- |
 * | `turn` | `TurnStartedEvent` | first, when the turn (or a resumed segment) starts |
 * | `activity` | a `TurnActivity` of `@lash/protocol` | each activity, in order |
 * | `result` | `TurnResult` | last, when the turn (or segment) ended as a value |
 * | `error` | `ErrorBody` | last, when the turn failed with an error instead |
 */
export const TURN_STREAM_EVENTS = ["turn", "activity", "result", "error"] as const;
export type TurnStreamEventName = (typeof TURN_STREAM_EVENTS)[number];

/** One event of a turn's stream, as a client parses it: `event` names which `data` schema applies. */
export const turnStreamEventSchema = z.discriminatedUnion("event", [
  z.object({ event: z.literal("turn"), id: z.number().int().positive(), data: turnStartedEventSchema }),
  z.object({ event: z.literal("activity"), id: z.number().int().positive(), data: turnActivitySchema }),
  z.object({ event: z.literal("result"), id: z.number().int().positive(), data: turnResultSchema }),
  z.object({ event: z.literal("error"), id: z.number().int().positive(), data: errorBodySchema }),
]);
export type TurnStreamEvent = z.infer<typeof turnStreamEventSchema>;

/** `GET /v1/sessions/{id}/approvals`: the requests waiting for a decision. */
export const approvalListResponseSchema = z.object({
  approvals: z.array(approvalRequestSchema),
});
export type ApprovalListResponse = z.infer<typeof approvalListResponseSchema>;

/** The longest reason a decision may carry, in characters (a rejection's reason reaches the model). */
export const MAX_DECISION_REASON_LENGTH = 2000;

/** `POST /v1/sessions/{id}/approvals/{approvalId}`. Unknown fields are refused. */
export const approvalDecisionRequestSchema = z.strictObject({
  /** Run the call, or never run it. */
  decision: z.enum(["approve", "reject"]),
  /** Why; a rejection's reason reaches the model. */
  reason: z.string().max(MAX_DECISION_REASON_LENGTH).optional(),
});
export type ApprovalDecisionRequest = z.infer<typeof approvalDecisionRequestSchema>;
