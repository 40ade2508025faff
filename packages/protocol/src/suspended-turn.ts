import { z } from "zod";
import { approvalRequestSchema, approvalResolutionSchema } from "./approvals.js";
import { toolCallReplaySchema } from "./messages.js";
import { promptLayerSchema } from "./prompt-layer.js";
import { terminationPolicySchema } from "./termination.js";
import { toolCallRecordSchema } from "./tools.js";
import { tokenUsageSchema } from "./usage.js";

/*
 * A turn that waits durably for approval decisions (ADR 0029). When a tool call needs approval and
 * nobody answers in process, the turn commits what it did so far, ends `stopped { awaiting_approval }`
 * and leaves this record in the session's checkpoint. Any process that opens the session later can
 * decide the requests and continue the same turn from it: the record holds everything the turn
 * needs that is data (its identity, model, limits, counters and the open tool batch); what is code
 * (tools, stop conditions, an output schema) comes from the resuming runtime.
 */

const nonNegativeInt = z.number().int().nonnegative();

/** A tool call of the open batch, exactly as the model asked for it. */
export const suspendedToolCallSchema = z.object({
  /** The provider's call id. */
  callId: z.string(),
  /** The tool's name. */
  toolName: z.string(),
  /** The arguments exactly as the model produced them. */
  inputJson: z.string(),
  /** Provider replay data of the call, when it had some. */
  replay: toolCallReplaySchema.optional(),
});
export type SuspendedToolCall = z.infer<typeof suspendedToolCallSchema>;

/** A call of the open batch that already has its result (it ran, failed, or was refused). */
export const suspendedToolResultSchema = z.object({
  /** The call's position in the batch. */
  index: nonNegativeInt,
  /** The call's record, as the session graph keeps it. */
  record: toolCallRecordSchema,
  /** The text the model will see as the call's result. */
  modelText: z.string(),
});
export type SuspendedToolResult = z.infer<typeof suspendedToolResultSchema>;

/** An approval request of the suspended turn, with its decision once one was made. */
export const suspendedApprovalSchema = approvalRequestSchema.extend({
  /** The call's position in the batch. */
  index: nonNegativeInt,
  /** The decision; absent while the request is open. */
  resolution: approvalResolutionSchema.optional(),
});
export type SuspendedApproval = z.infer<typeof suspendedApprovalSchema>;

/** Everything a suspended turn needs to continue in another process. */
export const suspendedTurnSchema = z.object({
  /** The turn's trace id (its commits are named after it). */
  turnId: z.string().min(1),
  /** The turn's index in the session. */
  turnIndex: z.number().int().positive(),
  /** Which run of the turn suspended: 1 for the first, then one more per resume. */
  segment: z.number().int().positive(),
  /** When the turn suspended (ISO 8601). */
  suspendedAt: z.string(),
  /** The provider and model the turn runs on. */
  selection: z.object({ providerId: z.string(), model: z.string(), modelVariant: z.string().optional() }),
  /** The turn's effective limits (its `stopWhen` conditions are code: the resuming caller passes them again). */
  termination: terminationPolicySchema,
  /** The turn context's prompt layer, when the turn had one. */
  prompt: promptLayerSchema.optional(),
  /** The turn machine's counters when it suspended. */
  machine: z.object({
    modeIteration: nonNegativeInt,
    modeRunOffset: nonNegativeInt,
    modelCalls: nonNegativeInt,
    toolCallsExecuted: nonNegativeInt,
    nextEffectId: z.number().int().positive(),
    /** The turn's usage so far (already committed to the ledger). */
    cumulativeUsage: tokenUsageSchema,
    /** Wall time the turn has run so far, in milliseconds (waiting for a decision does not count). */
    elapsedMs: z.number().nonnegative(),
    /** Structured-output repairs already spent. */
    outputRepairs: nonNegativeInt,
  }),
  /** The tool batch that waits: its calls, the results it has, and whether the tool-call budget ran out. */
  batch: z.object({
    /** The assistant message holding the calls (the last message of the session's active path). */
    messageId: z.string(),
    calls: z.array(suspendedToolCallSchema).min(1),
    results: z.array(suspendedToolResultSchema),
    /** Calls nested inside container tools that ran in this batch (they count against `maxToolCalls`). */
    nestedCallsRun: nonNegativeInt.default(0),
    /** The batch went past `maxToolCalls`: the turn stops `budget_exhausted` once the batch is answered. */
    budgetExhausted: z.boolean(),
  }),
  /** The batch's approval requests, decided or not. */
  approvals: z.array(suspendedApprovalSchema).min(1),
});
export type SuspendedTurn = z.infer<typeof suspendedTurnSchema>;
