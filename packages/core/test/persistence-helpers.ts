// Helpers of the persistence tests (environment, residency, park and resume, crash resume).
import type {
  PersistedSessionRead,
  SessionCommit,
  SessionCommitResult,
  SessionReadScope,
  SessionStore,
  ToolDefinition,
} from "@lash/protocol";
import { LashError, StoreUnavailableError } from "@lash/protocol";
import { ScriptedProvider, type ScriptedStep } from "@lash/testkit";
import {
  InMemorySessionDatabase,
  InMemorySessionStore,
  type LashPlugin,
  LashRuntime,
  type Residency,
  RuntimeEnvironment,
  type RuntimeEnvironmentBuilder,
} from "../src/index.js";
import { IMMEDIATE_RETRY, MODEL } from "./fixtures.js";

/** When an injected commit fault strikes: before the store applies the commit, or after (the answer is lost). */
export type CommitFaultTiming = "before_apply" | "after_apply" | "rejected";

/**
 * An in-memory store that records what the runtime asked of it (commits, load scopes) and can
 * fail chosen commits: the faults a real backend produces (a lost connection before or after the
 * write) that cannot be caused otherwise.
 */
export class InstrumentedStore extends InMemorySessionStore {
  readonly commits: { commit: SessionCommit; result: SessionCommitResult }[] = [];
  readonly failedCommitIds: string[] = [];
  readonly loadScopes: SessionReadScope[] = [];
  #fault: ((commit: SessionCommit) => CommitFaultTiming | undefined) | undefined;

  /** Fails every commit for which `decide` names a timing (until `clearFault`). */
  failCommits(decide: (commit: SessionCommit) => CommitFaultTiming | undefined): void {
    this.#fault = decide;
  }

  clearFault(): void {
    this.#fault = undefined;
  }

  override async loadSession(scope: SessionReadScope): Promise<PersistedSessionRead | undefined> {
    this.loadScopes.push(structuredClone(scope));
    return super.loadSession(scope);
  }

  override async commit(commit: SessionCommit): Promise<SessionCommitResult> {
    const timing = this.#fault?.(commit);
    const copy = structuredClone(commit);
    if (timing === "before_apply") {
      this.failedCommitIds.push(commit.commitId);
      throw new StoreUnavailableError(`connection lost before commit \`${commit.commitId}\``);
    }
    if (timing === "rejected") {
      // A store that refused the commit and rolled it back (a host's commit hook failed, say).
      this.failedCommitIds.push(commit.commitId);
      throw new LashError("store_commit_failed", `commit \`${commit.commitId}\` was rolled back`);
    }
    const result = await super.commit(commit);
    this.commits.push({ commit: copy, result });
    if (timing === "after_apply") {
      this.failedCommitIds.push(commit.commitId);
      throw new StoreUnavailableError(`connection lost after commit \`${commit.commitId}\``);
    }
    return result;
  }

  /** The graph delta types of every applied commit, in order. */
  deltaTypes(): string[] {
    return this.commits.map(({ commit }) => commit.graph.type);
  }
}

/** A scripted provider with the fixtures' id and model. */
export function scriptedProvider(steps: readonly ScriptedStep[]): ScriptedProvider {
  return new ScriptedProvider(steps, { defaultModel: MODEL, providerId: "mock" });
}

export interface EnvironmentFixtureOptions {
  readonly residency?: Residency;
  readonly provider: ScriptedProvider;
  readonly tools?: readonly ToolDefinition<unknown>[];
  readonly plugins?: readonly LashPlugin[];
  readonly database?: InMemorySessionDatabase;
  readonly configure?: (builder: RuntimeEnvironmentBuilder) => RuntimeEnvironmentBuilder;
}

/** An environment over an in-memory database (also its child-session store factory). */
export function environmentFixture(options: EnvironmentFixtureOptions): {
  environment: RuntimeEnvironment;
  database: InMemorySessionDatabase;
} {
  const database = options.database ?? new InMemorySessionDatabase();
  let builder = RuntimeEnvironment.builder()
    .withResidency(options.residency ?? "keep_all")
    .withSessionStoreFactory(database)
    .withProvider(options.provider)
    .withProviderRetryPolicy(IMMEDIATE_RETRY);
  if (options.tools) builder = builder.withTools(options.tools);
  if (options.plugins) builder = builder.withPlugins(options.plugins);
  if (options.configure) builder = options.configure(builder);
  return { environment: builder.build(), database };
}

/** A runtime for `sessionId` built from `environment` on `store` (model "mock-model"). */
export function runtimeOn(environment: RuntimeEnvironment, sessionId: string, store: SessionStore): Promise<LashRuntime> {
  return LashRuntime.builder()
    .withEnvironment(environment)
    .withSessionId(sessionId)
    .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
    .withStore(store)
    .build();
}

/** What a call threw or rejected with (`undefined` when it succeeded). */
export async function failureOf(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The error as a `LashError` with `code` (fails the test otherwise). */
export function expectLashError(error: unknown, code: string): LashError {
  if (!LashError.isInstance(error)) throw new Error(`expected a LashError \`${code}\`, got ${String(error)}`);
  if (error.code !== code) throw new Error(`expected a LashError \`${code}\`, got \`${error.code}\`: ${error.message}`);
  return error;
}

/** The ids of every live node a store holds (one full load). */
export async function storedNodeIds(store: InMemorySessionStore): Promise<string[]> {
  const read = await store.loadSession({ type: "full_graph" });
  return (read?.graph.nodes ?? []).map((node) => node.nodeId);
}

/**
 * The store without its `sessionId`: a store that does not say which session it is bound to, so the
 * builder cannot refuse the mismatch and the store refuses the first commit instead (the commit
 * failure paths are what such tests exercise).
 */
export function withoutBinding(store: InMemorySessionStore): SessionStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === "sessionId") return undefined;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
