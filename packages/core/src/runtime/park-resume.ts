import { randomUUID } from "node:crypto";
import type { ModelProvider, PersistedSessionConfig, SessionPolicy, SessionStore } from "@lash/protocol";
import { LashError, sessionPolicySchema } from "@lash/protocol";
import { applyLoadedSession } from "./runtime-builder.js";
import { withBackendAttachments } from "./runtime-core-config.js";
import type { RuntimeEnvironment } from "./runtime-environment.js";
import { assembleSessionCore, unconfiguredProvider } from "./session-assembly.js";
import type { SessionCore, SessionEnvironment } from "./session-core.js";

/**
 * A parked session: what `LashRuntime.resume` needs to rebuild its runtime, and nothing else. Plain
 * data plus the store handle: no graph, no plugin state, no provider client, so its size does not
 * grow with the session's history. A host that lost a runtime without parking it (a crash) can
 * write one itself from the session id, its store and its policy.
 */
export interface ParkedSession {
  readonly sessionId: string;
  readonly store: SessionStore;
  readonly policy: SessionPolicy;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The session that is running a turn under `core` (itself or a managed session), if any. */
function runningSession(core: SessionCore, seen = new Set<SessionCore>()): string | undefined {
  if (seen.has(core)) return undefined;
  seen.add(core);
  if (core.turnRunning) return core.sessionId;
  for (const childId of core.sessions.sessionIds) {
    const child = core.sessions.child(childId);
    const running = child ? runningSession(child, seen) : undefined;
    if (running !== undefined) return running;
  }
  return undefined;
}

/**
 * Commits everything the session holds only in memory (pending usage, undrained child usage,
 * uncommitted nodes, the current checkpoint and config) under the commit id `park:<uuid>`, and
 * returns the parked session. A failed commit throws `park_failed` and changes nothing: the usage it
 * carried stays pending, so the runtime can go on or park again.
 */
export async function parkSession(core: SessionCore): Promise<ParkedSession> {
  const store = core.store;
  if (!store) {
    throw new LashError("invalid_configuration", `park() requires a persistent runtime: session \`${core.sessionId}\` has no store`);
  }
  const running = runningSession(core);
  if (running !== undefined) {
    throw new LashError("turn_in_progress", `cannot park session \`${core.sessionId}\` while session \`${running}\` runs a turn`);
  }
  // Holding the turn flag keeps a turn from starting while the park commit is in flight.
  core.turnRunning = true;
  try {
    const sharedUsage = core.sessions.drainSharedLedger();
    // A core whose every change is stored (a turn's last commit, or a load, left it so) parks
    // without a commit: one would only move the head.
    if (sharedUsage.length > 0 || !core.committedAll) await core.commit(`park:${randomUUID()}`, sharedUsage);
  } catch (error) {
    throw new LashError("park_failed", `failed to persist runtime state of session \`${core.sessionId}\`: ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    core.turnRunning = false;
  }
  return Object.freeze({ sessionId: core.sessionId, store, policy: structuredClone(core.policy) });
}

/** The session environment of a runtime rebuilt from `environment` alone. */
export function sessionEnvironmentOf(environment: RuntimeEnvironment): SessionEnvironment {
  return {
    core: environment.core,
    toolProviders: environment.toolProviders,
    plugins: environment.pluginHost,
    modes: environment.modes,
    sessionStoreFactory: environment.sessionStoreFactory,
    residency: environment.residency,
    backgroundTaskHost: environment.backgroundTaskHost,
  };
}

/** The session environment with the store's attachments when the environment has only the in-memory default. */
function withStoreAttachments(shared: SessionEnvironment, store: SessionStore): SessionEnvironment {
  return { ...shared, core: withBackendAttachments(shared.core, store.attachments) };
}

/** The parked policy with the fields the store keeps (the store's are newer if another writer changed them). */
function policyWithStoredConfig(policy: SessionPolicy, config: PersistedSessionConfig): SessionPolicy {
  const next: SessionPolicy = { ...policy, providerId: config.providerId, model: config.model, executionMode: config.executionMode };
  if (config.contextWindow > 0) next.maxContextTokens = config.contextWindow;
  if (config.modelVariant === undefined) delete next.modelVariant;
  else next.modelVariant = config.modelVariant;
  return next;
}

function providerForPolicy(environment: RuntimeEnvironment, policy: SessionPolicy): ModelProvider {
  const provider = environment.providerFor(policy.providerId);
  if (provider) return provider;
  if (policy.providerId === unconfiguredProvider.providerId) return unconfiguredProvider;
  throw new LashError(
    "invalid_configuration",
    `session \`${policy.sessionId}\` runs on provider \`${policy.providerId}\`, which the environment does not register: add it with RuntimeEnvironment.builder().withProvider()`,
  );
}

function validatedParkedSession(parked: ParkedSession): ParkedSession {
  const candidate: Partial<ParkedSession> = typeof parked === "object" && parked !== null ? parked : {};
  if (typeof candidate.sessionId !== "string" || candidate.sessionId === "") {
    throw new LashError("invalid_argument", "a parked session needs a non-empty sessionId");
  }
  if (typeof candidate.store?.loadSession !== "function" || typeof candidate.store.commit !== "function") {
    throw new LashError("invalid_argument", `parked session \`${candidate.sessionId}\` has no session store`);
  }
  const policy = sessionPolicySchema.safeParse(candidate.policy);
  if (!policy.success) {
    const issue = policy.error.issues[0];
    throw new LashError(
      "invalid_argument",
      `parked session \`${candidate.sessionId}\` has an invalid policy at \`${issue?.path.join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
    );
  }
  if (policy.data.sessionId !== candidate.sessionId) {
    throw new LashError(
      "invalid_argument",
      `parked session \`${candidate.sessionId}\` carries the policy of session \`${policy.data.sessionId}\``,
    );
  }
  return { sessionId: candidate.sessionId, store: candidate.store, policy: policy.data };
}

/**
 * Rebuilds a session core from a parked session: loads the session with the environment's residency
 * (a full graph, or only the active path), or starts a fresh session with the parked policy when the
 * store holds none. Restores the graph, head revision, ledger, turn counters, execution state and
 * plugin snapshots; the policy is the parked one with the stored config's fields.
 */
export async function resumeSession(parked: ParkedSession, environment: RuntimeEnvironment): Promise<SessionCore> {
  const { sessionId, store, policy: parkedPolicy } = validatedParkedSession(parked);
  const scope = environment.residency === "active_path_only" ? { type: "active_path" as const } : { type: "full_graph" as const };
  let read;
  try {
    read = await store.loadSession(scope);
  } catch (error) {
    throw new LashError("session_load_failed", `failed to load session \`${sessionId}\`: ${errorMessage(error)}`, { cause: error });
  }
  if (read && read.sessionId !== sessionId) {
    throw new LashError(
      "session_binding_mismatch",
      `store is bound to session \`${read.sessionId}\` but the parked session is \`${sessionId}\``,
    );
  }
  const policy = read ? policyWithStoredConfig(parkedPolicy, read.config) : parkedPolicy;
  const { sessionId: _policySessionId, ...policyInput } = policy;
  const core = assembleSessionCore({
    sessionId,
    policy: policyInput,
    provider: providerForPolicy(environment, policy),
    environment: withStoreAttachments(sessionEnvironmentOf(environment), store),
    store,
  });
  if (read) applyLoadedSession(core, read);
  await environment.pluginHost.emitLifecycle({ type: "session_restored", sessionId });
  return core;
}
