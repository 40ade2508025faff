import type { ApprovalResolution } from "../approvals.js";
import { LashError, type LashErrorOptions, markerFor } from "./lash-error.js";

const notFoundMarker = markerFor("ApprovalNotFoundError");
const notFoundSymbol = Symbol.for(notFoundMarker);

/** A decision named approval requests the session's suspended turn does not have. Nothing was written. */
export class ApprovalNotFoundError extends LashError {
  readonly [notFoundSymbol] = true;
  readonly sessionId: string;
  /** The ids no open or decided request of the suspended turn has. */
  readonly ids: readonly string[];

  constructor(sessionId: string, ids: readonly string[], options: LashErrorOptions = {}) {
    super(
      "approval_not_found",
      `session \`${sessionId}\` has no approval request ${ids.map((id) => `\`${id}\``).join(", ")} waiting for a decision`,
      options,
    );
    this.name = "ApprovalNotFoundError";
    this.sessionId = sessionId;
    this.ids = [...ids];
  }

  static override isInstance(error: unknown): error is ApprovalNotFoundError {
    return LashError.hasMarker(error, notFoundMarker);
  }
}

const decidedMarker = markerFor("ApprovalAlreadyDecidedError");
const decidedSymbol = Symbol.for(decidedMarker);

/** A decision named a request that was already decided, or expired. Nothing was written. */
export class ApprovalAlreadyDecidedError extends LashError {
  readonly [decidedSymbol] = true;
  readonly sessionId: string;
  /** The request's id. */
  readonly id: string;
  /** The decision that stands. */
  readonly resolution: ApprovalResolution;

  constructor(sessionId: string, id: string, resolution: ApprovalResolution, options: LashErrorOptions = {}) {
    const by = resolution.decidedBy === undefined ? "" : ` by ${resolution.decidedBy}`;
    super(
      "approval_already_decided",
      `approval request \`${id}\` of session \`${sessionId}\` was already ${resolution.decision}${by} (${resolution.source}, ${resolution.decidedAt})`,
      options,
    );
    this.name = "ApprovalAlreadyDecidedError";
    this.sessionId = sessionId;
    this.id = id;
    this.resolution = resolution;
  }

  static override isInstance(error: unknown): error is ApprovalAlreadyDecidedError {
    return LashError.hasMarker(error, decidedMarker);
  }
}

const conflictMarker = markerFor("ApprovalConflictError");
const conflictSymbol = Symbol.for(conflictMarker);

/**
 * Another decider decided the same request first (two processes or runtimes racing on one
 * session): the first decision stands and nothing of this one was written or run.
 */
export class ApprovalConflictError extends LashError {
  readonly [conflictSymbol] = true;
  readonly sessionId: string;
  /** The winner's decisions, by request id, for the requests this decision also named. */
  readonly resolutions: Readonly<Record<string, ApprovalResolution>>;

  constructor(sessionId: string, resolutions: Readonly<Record<string, ApprovalResolution>>, options: LashErrorOptions = {}) {
    const described = Object.entries(resolutions)
      .map(
        ([id, resolution]) => `\`${id}\` ${resolution.decision}${resolution.decidedBy === undefined ? "" : ` by ${resolution.decidedBy}`}`,
      )
      .join(", ");
    super("approval_conflict", `another decider decided first in session \`${sessionId}\`: ${described}`, options);
    this.name = "ApprovalConflictError";
    this.sessionId = sessionId;
    this.resolutions = { ...resolutions };
  }

  static override isInstance(error: unknown): error is ApprovalConflictError {
    return LashError.hasMarker(error, conflictMarker);
  }
}
