import type { PersistedSessionState, SessionPolicy, SessionStateEnvelope, TokenLedgerEntry } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import type { LashRuntime } from "./lash-runtime.js";

/** A cheap, immutable snapshot of a runtime, readable while a turn runs. */
export interface RuntimeObservation {
  readonly sessionId: string;
  readonly policy: SessionPolicy;
  readonly state: SessionStateEnvelope;
  readonly persistedState: PersistedSessionState;
  readonly tokenLedger: readonly TokenLedgerEntry[];
  /** Ids of the managed child sessions and successors. */
  readonly managedSessionIds: readonly string[];
}

function observe(runtime: LashRuntime): RuntimeObservation {
  const persistedState = runtime.exportPersistedState();
  return Object.freeze({
    sessionId: runtime.sessionId,
    policy: runtime.policy,
    state: runtime.exportState(),
    persistedState,
    tokenLedger: runtime.tokenLedger(),
    managedSessionIds: runtime.sessions.sessionIds,
  });
}

/**
 * Shares one runtime between callers: writers take turns through `withRuntime` (an async mutex),
 * readers get the last published observation without waiting.
 */
export class RuntimeHandle {
  #runtime: LashRuntime | undefined;
  #observation: RuntimeObservation;
  #tail: Promise<unknown> = Promise.resolve();
  #writers = 0;

  constructor(runtime: LashRuntime) {
    this.#runtime = runtime;
    this.#observation = observe(runtime);
  }

  /** Runs `work` with exclusive access to the runtime, then publishes a fresh observation. */
  withRuntime<T>(work: (runtime: LashRuntime) => Promise<T> | T): Promise<T> {
    const run = async (): Promise<T> => {
      const runtime = this.#runtime;
      if (!runtime) throw new LashError("invalid_argument", "the runtime was released from this handle (or parked)");
      this.#writers += 1;
      try {
        return await work(runtime);
      } finally {
        this.#writers -= 1;
        this.#publishOrRelease(runtime);
      }
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Publishes a fresh observation; a runtime that can no longer be observed was parked by the
   * writer, so the handle lets it go and keeps the last observation.
   */
  #publishOrRelease(runtime: LashRuntime): void {
    try {
      this.#observation = observe(runtime);
    } catch {
      this.#runtime = undefined;
    }
  }

  /** The last published observation. */
  observe(): RuntimeObservation {
    return this.#observation;
  }

  /** Replaces the observation with the runtime's current state. */
  publishFrom(runtime: LashRuntime): void {
    this.#observation = observe(runtime);
  }

  /** Takes the runtime out of the handle; fails while a writer holds it. */
  release(): LashRuntime {
    const runtime = this.#runtime;
    if (!runtime) throw new LashError("invalid_argument", "the runtime was already released");
    if (this.#writers > 0) throw new LashError("turn_in_progress", "the runtime is in use by a writer");
    this.#runtime = undefined;
    return runtime;
  }
}
