import { z } from "zod";
import { sessionGraphSchema } from "./graph.js";
import { jsonValueSchema } from "./json.js";
import { promptUsageSchema, tokenLedgerEntrySchema, tokenUsageSchema } from "./usage.js";

/**
 * Sections of the system prompt, in render order. Contributions are sorted by slot, then priority.
 */
export const promptSlotSchema = z.enum(["intro", "execution", "guidance", "project_instructions", "runtime_context", "environment"]);
export type PromptSlot = z.infer<typeof promptSlotSchema>;

/** A piece of system prompt. A titled contribution renders as `### {title}\n\n{content}`. */
export const promptContributionSchema = z.object({
  slot: promptSlotSchema,
  priority: z.number().int().default(0),
  title: z.string().optional(),
  content: z.string(),
});
export type PromptContribution = z.infer<typeof promptContributionSchema>;

/**
 * One layer of prompt configuration. Layers apply in order (mode, execution surface, runtime core,
 * session policy, turn context); a later `template` wins, and a slot listed in `resetSlots` drops the
 * contributions earlier layers made to it.
 */
export const promptLayerSchema = z.object({
  template: z.string().optional(),
  contributions: z.array(promptContributionSchema).default([]),
  resetSlots: z.array(promptSlotSchema).default([]),
});
export type PromptLayer = z.infer<typeof promptLayerSchema>;

/** Per-turn options of an execution mode (for example a code mode's termination), opaque to core. */
export const modeTurnOptionsSchema = z.object({
  modeId: z.string(),
  payload: jsonValueSchema.default({}),
});
export type ModeTurnOptions = z.infer<typeof modeTurnOptionsSchema>;

/**
 * The session's configuration. `maxContextTokens` is required (a runtime will not start without it);
 * `providerId` names the provider kind (the provider object itself is supplied by the host and never
 * persisted).
 */
export const sessionPolicySchema = z.object({
  sessionId: z.string().min(1),
  providerId: z.string().default("unconfigured"),
  model: z.string(),
  modelVariant: z.string().optional(),
  maxContextTokens: z.number().int().positive(),
  executionMode: z.string().default("standard"),
  prompt: promptLayerSchema.optional(),
});
export type SessionPolicy = z.infer<typeof sessionPolicySchema>;

/**
 * The session read model returned with every turn. `tokenUsage` is the last turn's usage (cumulative
 * over that turn's model calls), not a lifetime total: lifetime totals are in the token ledger.
 */
export const sessionStateEnvelopeSchema = z.object({
  sessionId: z.string(),
  policy: sessionPolicySchema,
  sessionGraph: sessionGraphSchema,
  turnIndex: z.number().int().nonnegative(),
  tokenUsage: tokenUsageSchema,
  lastPromptUsage: promptUsageSchema.optional(),
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
  schemaVersion: z.literal(PERSISTED_SESSION_SCHEMA_VERSION),
  tokenLedger: z.array(tokenLedgerEntrySchema).default([]),
  /** Mode-owned state (for example a code interpreter's bindings), opaque to core. */
  executionState: jsonValueSchema.optional(),
  /** Plugin-owned snapshots keyed by plugin id. */
  pluginSnapshots: z.record(z.string(), jsonValueSchema).optional(),
});
export type PersistedSessionState = z.infer<typeof persistedSessionStateSchema>;

/** The slice of the policy a store keeps with the head (for listings and reloads). */
export const persistedSessionConfigSchema = z.object({
  providerId: z.string(),
  model: z.string(),
  contextWindow: z.number().int().nonnegative(),
  executionMode: z.string(),
  modelVariant: z.string().optional(),
});
export type PersistedSessionConfig = z.infer<typeof persistedSessionConfigSchema>;

/** Per-turn counters persisted in every checkpoint. */
export const persistedTurnStateSchema = z.object({
  turnIndex: z.number().int().nonnegative(),
  tokenUsage: tokenUsageSchema,
  lastPromptUsage: promptUsageSchema.optional(),
  modeTurnOptions: modeTurnOptionsSchema.optional(),
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
    parentSessionId: z.string(),
    originatingToolCallId: z.string().optional(),
  }),
  z.object({
    type: z.literal("handoff"),
    parentSessionId: z.string(),
    reason: z.string(),
    metadata: z.record(z.string(), jsonValueSchema).default({}),
  }),
]);
export type SessionRelation = z.infer<typeof sessionRelationSchema>;
