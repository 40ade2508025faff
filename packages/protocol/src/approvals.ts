import { z } from "zod";
import { jsonValueSchema } from "./json.js";

/*
 * Tools that need approval (ADR 0029). A tool declares `needsApproval`; before such a call runs,
 * the runtime builds an `ApprovalRequest` and asks an `ApprovalHandler` (the turn's own, else the
 * runtime's). The answer approves the call (it runs), rejects it (the model gets a
 * `permission_denied` / `approval_rejected` result with the reason and the turn goes on) or defers
 * it. Requests and resolutions are plain data: they travel in events and, later, in stored state.
 */

/** A question to a person (or a policy): may this tool call run? */
export const approvalRequestSchema = z.object({
  /** Unique per request (a UUID): the id a decision names. */
  id: z.string().min(1),
  /** The session whose turn asks. */
  sessionId: z.string(),
  /** The turn that asks (its trace turn id). */
  turnId: z.string(),
  /** The turn's index in the session (1 for the first). */
  turnIndex: z.number().int().positive(),
  /**
   * The provider's id of the call; absent for a call nested inside a container tool (`batch`),
   * which has no call id of its own.
   */
  callId: z.string().optional(),
  /** The tool's name. */
  tool: z.string(),
  /** The validated arguments, as the model sent them. */
  args: jsonValueSchema,
  /** The line a person sees (the tool's `describeApproval`); absent when the tool gives none. */
  summary: z.string().optional(),
  /** The assistant message that holds the call: with `modeIteration`, it names the model call that asked. */
  messageId: z.string(),
  /** The round of the turn whose model call asked (0 for the first model call). */
  modeIteration: z.number().int().nonnegative(),
  /** When the request was made (ISO 8601). */
  requestedAt: z.string(),
  /** When an undecided request expires (ISO 8601); absent = never. */
  expiresAt: z.string().optional(),
});
export type ApprovalRequest = z.infer<typeof approvalRequestSchema>;

/** What was decided about a call (`ApprovalDecision`, a resume's answer to one request, comes with suspension). */
export const approvalDecisionKindSchema = z.enum(["approved", "rejected"]);
export type ApprovalDecisionKind = z.infer<typeof approvalDecisionKindSchema>;

/**
 * Where a decision came from: an in-process `handler`, a later `resume` of a suspended turn, or an
 * `expiry` (nobody decided in time).
 */
export const approvalSourceSchema = z.enum(["handler", "resume", "expiry"]);
export type ApprovalSource = z.infer<typeof approvalSourceSchema>;

/** The decision on one request. */
export const approvalResolutionSchema = z.object({
  /** Approved (the call ran) or rejected (it never ran). */
  decision: approvalDecisionKindSchema,
  /** Why, in the decider's words; a rejection's reason reaches the model. Absent when none was given. */
  reason: z.string().optional(),
  /** Who decided, opaque to lash (`cli:alice`, a user id); absent when the answer did not say. */
  decidedBy: z.string().optional(),
  /** When it was decided (ISO 8601). */
  decidedAt: z.string(),
  /** Where the decision came from. */
  source: approvalSourceSchema,
});
export type ApprovalResolution = z.infer<typeof approvalResolutionSchema>;

/** The decision a tool call record carries: the request's id and its resolution. */
export const toolCallApprovalSchema = approvalResolutionSchema.extend({
  /** The request's id. */
  id: z.string().min(1),
});
export type ToolCallApproval = z.infer<typeof toolCallApprovalSchema>;

/**
 * A handler's answer. `approve` runs the call; `reject` refuses it (the model sees `reason`);
 * `defer` leaves it undecided: the turn suspends (`stopped { awaiting_approval }`) for a later
 * `resumeTurn`. `expiresInMs` bounds how long a deferred request stays open.
 */
export const approvalAnswerSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.enum(["approve", "reject"]),
    /** Why; a rejection's reason reaches the model. */
    reason: z.string().optional(),
    /** Who decided (overrides nothing: it is recorded as given). */
    decidedBy: z.string().optional(),
  }),
  z.object({
    type: z.literal("defer"),
    /** How long the deferred request stays open, in milliseconds; absent = the runtime's default. */
    expiresInMs: z.number().int().positive().optional(),
  }),
]);
export type ApprovalAnswer = z.infer<typeof approvalAnswerSchema>;

/**
 * Answers approval requests in process. `signal` aborts when the turn is cancelled: a handler that
 * waits for a person should stop waiting then. Waiting counts towards the turn's `maxWallTimeMs`.
 */
export type ApprovalHandler = (
  request: ApprovalRequest,
  options: { readonly signal: AbortSignal },
) => ApprovalAnswer | Promise<ApprovalAnswer>;

/** The failure code of a call the model sees when the decider rejected it. */
export const APPROVAL_REJECTED_CODE = "approval_rejected";
/**
 * The failure code of a call that needed approval and could not wait for it: a call nested inside a
 * container tool (`batch`), which has no call id a later decision could name.
 */
export const APPROVAL_REQUIRED_CODE = "approval_required";

/** A decision a caller gives for one request of a suspended turn (`resumeTurn`). */
export const approvalDecisionSchema = z.object({
  /** The request's id. */
  id: z.string().min(1),
  /** Approve (the call runs) or reject (it never runs; the model sees `reason`). */
  decision: z.enum(["approve", "reject"]),
  /** Why; a rejection's reason reaches the model. */
  reason: z.string().optional(),
  /** Who decided (opaque: `cli:alice`, a user id); defaults to the request's `decidedBy`. */
  decidedBy: z.string().optional(),
});
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

/** The reason recorded for a request nobody decided before its `expiresAt`. */
export const APPROVAL_EXPIRED_REASON = "expired";
