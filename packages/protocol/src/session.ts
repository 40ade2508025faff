import { z } from "zod";
import { sessionGraphSchema } from "./graph.js";
import { jsonValueSchema } from "./json.js";
import { promptLayerSchema } from "./prompt-layer.js";
import { suspendedTurnSchema } from "./suspended-turn.js";
import { promptUsageSchema, tokenLedgerEntrySchema, tokenUsageSchema } from "./usage.js";

export type { PromptContribution, PromptLayer, PromptSlot } from "./prompt-layer.js";
export { promptContributionSchema, promptLayerSchema, promptSlotSchema } from "./prompt-layer.js";

/** Per-turn options of an execution mode (for example a code mode's termination), opaque to core. */
export const modeTurnOptionsSchema = z.object({
  /** The execution mode the options are for. */
  modeId: z.string(),
  /** The options, as that mode defines them (default `{}`). */
  payload: jsonValueSchema.default({}),
});
export type ModeTurnOptions = z.infer<typeof modeTurnOptionsSchema>;

/**
 * The session's configuration. `maxContextTokens` is required (a runtime will not start without it);
 * `providerId` names the provider kind (the provider object itself is supplied by the host and never
 * persisted).
 */
export const sessionPolicySchema = z.object({
  /** The session's id. */
  sessionId: z.string().min(1),
  /** The provider kind (`ModelProvider.providerId`); `unconfigured` until a provider is set. */
  providerId: z.string().default("unconfigured"),
  /** The model every call uses unless a turn names another. */
  model: z.string(),
  /** The model variant (a reasoning effort, ...); absent = the model's default. */
  modelVariant: z.string().optional(),
  /** The model's context window, in tokens: prompts are kept within it. */
  maxContextTokens: z.number().int().positive(),
  /** The id of the session's execution mode (default `standard`). */
  executionMode: z.string().default("standard"),
  /** The session's own prompt layer; absent = none. */
  prompt: promptLayerSchema.optional(),
});
export type SessionPolicy = z.infer<typeof sessionPolicySchema>;

/**
 * The session read model returned with every turn. `tokenUsage` is the last turn's usage (cumulative
 * over that turn's model calls), not a lifetime total: lifetime totals are in the token ledger.
 */
export const sessionStateEnvelopeSchema = z.object({
  /** The session's id. */
  sessionId: z.string(),
  /** The session's configuration. */
  policy: sessionPolicySchema,
  /** The conversation and its records. */
  sessionGraph: sessionGraphSchema,
  /** Turns the session has run (0 before the first; the first turn has index 1). */
  turnIndex: z.number().int().nonnegative(),
  /** The last turn's usage (see above). */
  tokenUsage: tokenUsageSchema,
  /** The prompt size of the last model call; absent before any call reported usage. */
  lastPromptUsage: promptUsageSchema.optional(),
  /** The last turn's mode options; absent when it had none. */
  modeTurnOptions: modeTurnOptionsSchema.optional(),
});
export type SessionStateEnvelope = z.infer<typeof sessionStateEnvelopeSchema>;

/** The persisted form's version; loaders reject documents with another version. */
export const PERSISTED_SESSION_SCHEMA_VERSION = 1;

/**
 * The persistence snapshot used by stores, resume and child sessions: the envelope plus the token
 * ledger and opaque snapshots owned by the execution mode and by plugins.
 */
export const persistedSessionStateSchema = sessionStateEnvelopeSchema.extend({
  /** `PERSISTED_SESSION_SCHEMA_VERSION`. */
  schemaVersion: z.literal(PERSISTED_SESSION_SCHEMA_VERSION),
  /** The session's lifetime usage, one row per `(source, model)`. */
  tokenLedger: z.array(tokenLedgerEntrySchema).default([]),
  /** Mode-owned state (for example a code interpreter's bindings), opaque to core; absent when the mode keeps none. */
  executionState: jsonValueSchema.optional(),
  /** Plugin-owned snapshots keyed by plugin id; absent when no plugin keeps one. */
  pluginSnapshots: z.record(z.string(), jsonValueSchema).optional(),
});
export type PersistedSessionState = z.infer<typeof persistedSessionStateSchema>;

/** The slice of the policy a store keeps with the head (for listings and reloads). */
export const persistedSessionConfigSchema = z.object({
  /** `SessionPolicy.providerId`. */
  providerId: z.string(),
  /** `SessionPolicy.model`. */
  model: z.string(),
  /** `SessionPolicy.maxContextTokens`, in tokens. */
  contextWindow: z.number().int().nonnegative(),
  /** `SessionPolicy.executionMode`. */
  executionMode: z.string(),
  /** `SessionPolicy.modelVariant`; absent = the model's default. */
  modelVariant: z.string().optional(),
});
export type PersistedSessionConfig = z.infer<typeof persistedSessionConfigSchema>;

/** Per-turn counters persisted in every checkpoint. */
export const persistedTurnStateSchema = z.object({
  /** As `SessionStateEnvelope.turnIndex`. */
  turnIndex: z.number().int().nonnegative(),
  /** As `SessionStateEnvelope.tokenUsage`. */
  tokenUsage: tokenUsageSchema,
  /** As `SessionStateEnvelope.lastPromptUsage`; absent before any call reported usage. */
  lastPromptUsage: promptUsageSchema.optional(),
  /** As `SessionStateEnvelope.modeTurnOptions`; absent when the last turn had none. */
  modeTurnOptions: modeTurnOptionsSchema.optional(),
  /**
   * The turn that waits for approval decisions (see `SuspendedTurn`); absent when no turn waits.
   * Every checkpoint carries it until the resumed turn commits past the suspended batch.
   */
  suspendedTurn: suspendedTurnSchema.optional(),
});
export type PersistedTurnState = z.infer<typeof persistedTurnStateSchema>;

/**
 * How a session relates to the one that created it: `root`; `child` (a subagent-style session whose
 * turns the parent drives); `handoff` (a successor that takes over the parent's future turns).
 */
export const sessionRelationSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("root") }),
  z.object({
    type: z.literal("child"),
    /** The session that created it. */
    parentSessionId: z.string(),
    /** The tool call that created it; absent when no tool did. */
    originatingToolCallId: z.string().optional(),
  }),
  z.object({
    type: z.literal("handoff"),
    /** The session it takes over from. */
    parentSessionId: z.string(),
    /** Why the conversation was handed off, as the tool that did it says. */
    reason: z.string(),
    /** Data the handing-off tool attached (default `{}`). */
    metadata: z.record(z.string(), jsonValueSchema).default({}),
  }),
]);
export type SessionRelation = z.infer<typeof sessionRelationSchema>;
