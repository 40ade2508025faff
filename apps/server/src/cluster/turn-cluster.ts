/**
 * How a turn's last segment ended, as the instance that ran it recorded it: the terminal event of
 * its stream (`result` or `error`), with the id it had there, so another instance can serve it to
 * a client that reattaches or cancels through it.
 */
export interface TurnEnding {
  readonly event: "result" | "error";
  /** The event's id in the turn's stream. */
  readonly eventId: number;
  /** The event's data, JSON on one line. */
  readonly data: string;
}

/** What the server instances on a store know of one turn. */
export type ClusterTurn =
  /** It runs on a live instance (`url` is where that instance said it listens, when it said so). */
  | { readonly state: "running"; readonly instanceId: string; readonly url?: string }
  /** Its last segment ended; this is how. */
  | { readonly state: "ended"; readonly ending: TurnEnding }
  /** It was running on an instance that stopped (a crash, a lost database connection) before it ended. */
  | { readonly state: "abandoned"; readonly instanceId: string };

/** A turn that runs on another instance, and where. */
export interface RunningClusterTurn {
  readonly turnId: string;
  readonly instanceId: string;
  /** Where that instance said it listens, when it said so. */
  readonly url?: string;
}

/** A turn of a session, as the cluster names it. */
export interface ClusterTurnKey {
  readonly sessionId: string;
  readonly turnId: string;
}

/**
 * What lets several server instances on one store serve the same turns: each instance records the
 * turns it runs and how they ended, asks the instance that runs a turn to cancel it, and hears the
 * cancels asked of it. `createPostgresTurnCluster` implements it on PostgreSQL (a table and
 * LISTEN/NOTIFY). Without one, an instance knows only its own turns.
 *
 * `turnStarted` and `turnEnded` never reject: a failure is reported through the implementation's
 * error callback, and the turn goes on (it is the store's commits that make it durable).
 */
export interface TurnCluster {
  /** This instance's id among the instances on the store. */
  readonly instanceId: string;
  /** Where this instance listens, for the hint a client gets when it reaches another one. */
  announce(url: string): void;
  /** Calls `listener` when another instance asks for a turn to be cancelled; returns the unsubscribe. */
  onCancelRequest(listener: (turn: ClusterTurnKey) => void): () => void;
  /** A segment of `turn` starts on this instance. */
  turnStarted(turn: ClusterTurnKey): Promise<void>;
  /** The segment of `turn` this instance ran ended with `ending`. */
  turnEnded(turn: ClusterTurnKey, ending: TurnEnding): Promise<void>;
  /** What the instances know of `turn`; `undefined` when none ran it. */
  findTurn(turn: ClusterTurnKey): Promise<ClusterTurn | undefined>;
  /**
   * The turn of `sessionId` that another live instance runs now, if any (a session runs one turn at
   * a time, on whichever instance started it). Rejects when the instances' table does not answer.
   */
  runningTurnOf(sessionId: string): Promise<RunningClusterTurn | undefined>;
  /**
   * Resolves once `turn` is no longer running (ended or abandoned), or when `signal` aborts, with
   * what is known of it then; without asking anyone to cancel it.
   */
  waitForTurn(turn: ClusterTurnKey, signal?: AbortSignal): Promise<ClusterTurn | undefined>;
  /**
   * Asks the instance that runs `turn` to cancel it, and resolves once it is no longer running
   * (ended or abandoned), or when `signal` aborts (the caller went away). A turn that is not
   * running resolves at once with what is known of it.
   */
  cancelTurn(turn: ClusterTurnKey, signal?: AbortSignal): Promise<ClusterTurn | undefined>;
  /** Stops listening and releases the connections. */
  close(): Promise<void>;
}
