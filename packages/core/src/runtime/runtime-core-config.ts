import type {
  ApprovalHandler,
  AttachmentStore,
  PromptContribution,
  PromptLayer,
  ProviderRetryPolicy,
  SessionStoreFactory,
  TerminationPolicy,
  TraceLevel,
  TraceSink,
} from "@lash/protocol";
import { defaultTerminationPolicy, LashError, terminationPolicySchema } from "@lash/protocol";
import type { ContextManager } from "../context/context-manager.js";
import type { ToolOutputBudgetOptions } from "../context/tool-output-limits.js";
import { emptyPromptLayer } from "../prompt/prompt-builder.js";
import { InMemoryAttachmentStore } from "../session/in-memory-attachment-store.js";
import { localEffectHost, type RuntimeEffectHost } from "./effect-host.js";

/** How the runtime answers approval requests of turns that have no `approve` option of their own. */
export interface RuntimeApprovals {
  /**
   * Answers each request: `approve`, `reject` (the model sees the reason) or `defer`. Absent: every
   * request waits, the turn suspends (`stopped { awaiting_approval }`) until `resumeTurn` decides.
   */
  readonly approve?: ApprovalHandler | undefined;
  /**
   * How long a request that waits stays open, in milliseconds, unless a `defer` answer says
   * otherwise; past it the request counts as rejected (reason `expired`). Absent = no expiry.
   */
  readonly expiresInMs?: number | undefined;
}

/** Configuration every runtime needs, with defaults. */
export interface RuntimeCoreConfig {
  readonly attachmentStore: AttachmentStore;
  /** The host's prompt layer (applied after the mode's and before the session policy's). */
  readonly prompt: PromptLayer;
  readonly termination: TerminationPolicy;
  readonly effectHost: RuntimeEffectHost;
  /** Overrides every provider's own retry policy when set. */
  readonly providerRetryPolicy: ProviderRetryPolicy | undefined;
  /** Receives the trace records of every turn; `undefined` (the default) builds no records at all. */
  readonly traceSink?: TraceSink | undefined;
  /** How much the trace sink receives (default `standard`). */
  readonly traceLevel?: TraceLevel | undefined;
  /**
   * The most characters of text and reasoning one model call may produce (default 4 MiB,
   * `DEFAULT_MAX_OUTPUT_CHARACTERS`): past it the call is ended and the turn stops `incomplete`
   * with what arrived, so an endless or enormous response cannot exhaust memory or the store.
   */
  readonly maxOutputCharacters?: number | undefined;
  /** The runtime's approver (`withApprovals`); child sessions share it. Absent = none. */
  readonly approvals?: RuntimeApprovals | undefined;
  /**
   * The date (`YYYY-MM-DD`) of the price table in force, recorded with every usage the runtime adds
   * to the ledger (`withPriceTableDate`). Absent = usage carries no date.
   */
  readonly priceTableDate?: string | undefined;
  /**
   * Keeps every model call's prompt within the context window (`withContextManager`): absent =
   * `rollingHistory()` with its defaults; `false` = none (a long session may end `context_overflow`).
   */
  readonly contextManager?: ContextManager | false | undefined;
  /**
   * Cuts tool results past a size to an excerpt, the full output kept (`withToolOutputBudget`):
   * absent = 50,000 bytes or 2,000 lines per result; `false` = no budget.
   */
  readonly toolOutputBudget?: ToolOutputBudgetOptions | false | undefined;
}

/**
 * The in-memory attachment stores made as a default (no host gave one): a builder replaces such a
 * store with the attachment store of the session store it is built on (`SessionStore.attachments`).
 */
const defaultedAttachmentStores = new WeakSet<AttachmentStore>();

/** True when `store` is absent or the in-memory default of a config no host gave a store to. */
export function isDefaultAttachmentStore(store: AttachmentStore | undefined): boolean {
  return store === undefined || defaultedAttachmentStores.has(store);
}

/**
 * `core` with `attachments` (the attachment store of the session store a session is loaded from)
 * in place of its in-memory default; a config whose attachment store the host chose is returned as is.
 */
export function withBackendAttachments(core: RuntimeCoreConfig, attachments: AttachmentStore | undefined): RuntimeCoreConfig {
  return attachments !== undefined && isDefaultAttachmentStore(core.attachmentStore) ? { ...core, attachmentStore: attachments } : core;
}

function defaultAttachmentStore(): AttachmentStore {
  const store = new InMemoryAttachmentStore();
  defaultedAttachmentStores.add(store);
  return store;
}

/** A config with the defaults: in-memory attachments, empty prompt layer, default termination, local effects. */
export function createRuntimeCoreConfig(overrides: Partial<RuntimeCoreConfig> = {}): RuntimeCoreConfig {
  return {
    attachmentStore: overrides.attachmentStore ?? defaultAttachmentStore(),
    prompt: overrides.prompt ?? emptyPromptLayer(),
    termination: overrides.termination ? validateTermination(overrides.termination) : defaultTerminationPolicy(),
    effectHost: overrides.effectHost ?? localEffectHost,
    providerRetryPolicy: overrides.providerRetryPolicy,
    ...(overrides.maxOutputCharacters === undefined ? {} : { maxOutputCharacters: validOutputCap(overrides.maxOutputCharacters) }),
    ...(overrides.approvals === undefined ? {} : { approvals: validApprovals(overrides.approvals) }),
    ...(overrides.priceTableDate === undefined ? {} : { priceTableDate: validPriceTableDate(overrides.priceTableDate) }),
    ...(overrides.contextManager === undefined ? {} : { contextManager: overrides.contextManager }),
    ...(overrides.toolOutputBudget === undefined ? {} : { toolOutputBudget: overrides.toolOutputBudget }),
    // Present only when configured: a runtime without tracing carries no tracing fields at all.
    ...(overrides.traceSink ? { traceSink: overrides.traceSink, traceLevel: overrides.traceLevel ?? "standard" } : {}),
  };
}

function validApprovals(approvals: RuntimeApprovals): RuntimeApprovals {
  if (typeof approvals !== "object" || approvals === null || (approvals.approve !== undefined && typeof approvals.approve !== "function")) {
    throw new LashError(
      "invalid_configuration",
      "withApprovals takes `{ approve?(request, { signal }), expiresInMs? }`: approve must be a function",
    );
  }
  const { expiresInMs } = approvals;
  if (expiresInMs !== undefined && (!Number.isSafeInteger(expiresInMs) || expiresInMs < 1)) {
    throw new LashError("invalid_configuration", `approvals.expiresInMs must be a positive integer, got ${String(expiresInMs)}`);
  }
  return {
    ...(approvals.approve === undefined ? {} : { approve: approvals.approve }),
    ...(expiresInMs === undefined ? {} : { expiresInMs }),
  };
}

function validPriceTableDate(value: string): string {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new LashError("invalid_configuration", `priceTableDate must be a date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return value;
}

function validOutputCap(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new LashError("invalid_configuration", `maxOutputCharacters must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Checks the serializable limits of a policy (a bad value is a configuration error, not a late surprise). */
export function validateTermination(policy: TerminationPolicy): TerminationPolicy {
  const { stopWhen, ...limits } = policy;
  const parsed = terminationPolicySchema.parse(limits);
  return stopWhen === undefined ? parsed : { ...parsed, stopWhen };
}

/** Adds a contribution to a prompt layer (returns a new layer). */
export function withContribution(layer: PromptLayer, contribution: PromptContribution): PromptLayer {
  return { ...layer, contributions: [...layer.contributions, contribution] };
}

/** The host shape of an embedded runtime: core config and an optional store factory for child sessions. */
export interface EmbeddedRuntimeHost {
  readonly core: RuntimeCoreConfig;
  readonly sessionStoreFactory: SessionStoreFactory | undefined;
}

export function createEmbeddedRuntimeHost(core: RuntimeCoreConfig, sessionStoreFactory?: SessionStoreFactory): EmbeddedRuntimeHost {
  return { core, sessionStoreFactory };
}
