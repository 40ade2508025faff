import type {
  ApprovalDecision,
  ApprovalRequest,
  ApprovalResolution,
  StopCondition,
  SuspendedApproval,
  SuspendedTurn,
  ToolCallApproval,
  ToolCallRecord,
} from "@lash/protocol";
import {
  APPROVAL_EXPIRED_REASON,
  ApprovalAlreadyDecidedError,
  ApprovalNotFoundError,
  approvalDecisionSchema,
  LashError,
} from "@lash/protocol";

/** The decisions a caller brings to a suspended turn (`runtime.resumeTurn`). */
export interface ResumeTurnRequest {
  /** One decision per request; none at all just continues a turn whose requests are all decided (or expired). */
  readonly decisions: readonly ApprovalDecision[];
  /** Who decides, for the decisions that do not say (opaque: `cli:alice`, a user id). */
  readonly decidedBy?: string | undefined;
  /** The turn's stop conditions: code is not stored with a suspended turn, so the resuming caller passes them again. */
  readonly stopWhen?: readonly StopCondition[] | undefined;
}

/** A request that was decided now (by a decision or by its expiry). */
export interface NewlyResolved {
  readonly approval: SuspendedApproval;
  readonly resolution: ApprovalResolution;
}

/** A suspended turn with decisions applied, and what they decided. */
export interface DecidedTurn {
  readonly suspended: SuspendedTurn;
  readonly resolved: readonly NewlyResolved[];
}

/** The decisions of a request, checked: well-formed, and each id at most once. */
export function parseDecisions(request: ResumeTurnRequest): ApprovalDecision[] {
  if (typeof request !== "object" || request === null || !Array.isArray(request.decisions)) {
    throw new LashError(
      "invalid_argument",
      "resumeTurn takes `{ decisions: [{ id, decision: 'approve' | 'reject', reason?, decidedBy? }] }`",
    );
  }
  const seen = new Set<string>();
  return request.decisions.map((raw, index) => {
    const parsed = approvalDecisionSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LashError("invalid_argument", `decisions[${index}].${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
    }
    if (seen.has(parsed.data.id)) throw new LashError("invalid_argument", `decisions name request \`${parsed.data.id}\` twice`);
    seen.add(parsed.data.id);
    const decidedBy = parsed.data.decidedBy ?? request.decidedBy;
    return decidedBy === undefined ? parsed.data : { ...parsed.data, decidedBy };
  });
}

/** The open requests whose `expiresAt` has passed become rejected (`expired`), the deadline winning over any later decision. */
export function expireApprovals(suspended: SuspendedTurn, now: Date): DecidedTurn {
  const resolved: NewlyResolved[] = [];
  const approvals = suspended.approvals.map((approval) => {
    if (approval.resolution !== undefined || approval.expiresAt === undefined) return approval;
    if (Date.parse(approval.expiresAt) > now.getTime()) return approval;
    const resolution: ApprovalResolution = {
      decision: "rejected",
      reason: APPROVAL_EXPIRED_REASON,
      decidedAt: now.toISOString(),
      source: "expiry",
    };
    resolved.push({ approval, resolution });
    return { ...approval, resolution };
  });
  return { suspended: { ...suspended, approvals }, resolved };
}

/** The decision a finished call's record carries, by request id (a request decided before the turn went on). */
export function recordedDecision(records: readonly ToolCallRecord[], id: string): ToolCallApproval | undefined {
  for (const record of records) if (record.approval?.id === id) return record.approval;
  return undefined;
}

function resolutionOf(approval: ToolCallApproval): ApprovalResolution {
  const { id: _id, ...resolution } = approval;
  return resolution;
}

/**
 * Applies `decisions` to the suspended turn. Every decision is checked first, and one bad id fails
 * them all (nothing is decided): an id no request has is `ApprovalNotFoundError`; an id already
 * decided (in the turn, or in a finished call's record) is `ApprovalAlreadyDecidedError`.
 */
export function decideApprovals(
  sessionId: string,
  suspended: SuspendedTurn | undefined,
  decisions: readonly ApprovalDecision[],
  records: readonly ToolCallRecord[],
  now: Date,
): DecidedTurn | undefined {
  const missing: string[] = [];
  for (const decision of decisions) {
    const approval = suspended?.approvals.find((candidate) => candidate.id === decision.id);
    const earlier =
      approval?.resolution ?? (approval === undefined ? mapDefined(recordedDecision(records, decision.id), resolutionOf) : undefined);
    if (earlier !== undefined) throw new ApprovalAlreadyDecidedError(sessionId, decision.id, earlier);
    if (approval === undefined) missing.push(decision.id);
  }
  if (missing.length > 0) throw new ApprovalNotFoundError(sessionId, missing);
  if (suspended === undefined) return undefined;
  const resolved: NewlyResolved[] = [];
  const approvals = suspended.approvals.map((approval) => {
    const decision = decisions.find((candidate) => candidate.id === approval.id);
    if (decision === undefined) return approval;
    const resolution: ApprovalResolution = {
      decision: decision.decision === "approve" ? "approved" : "rejected",
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      ...(decision.decidedBy === undefined ? {} : { decidedBy: decision.decidedBy }),
      decidedAt: now.toISOString(),
      source: "resume",
    };
    resolved.push({ approval, resolution });
    return { ...approval, resolution };
  });
  return { suspended: { ...suspended, approvals }, resolved };
}

/** The decisions another decider made on `ids` (in the suspended turn or in finished calls' records). */
export function winningResolutions(
  suspended: SuspendedTurn | undefined,
  records: readonly ToolCallRecord[],
  ids: readonly string[],
): Record<string, ApprovalResolution> {
  const winners: Record<string, ApprovalResolution> = {};
  for (const id of ids) {
    const resolution =
      suspended?.approvals.find((approval) => approval.id === id)?.resolution ?? mapDefined(recordedDecision(records, id), resolutionOf);
    if (resolution !== undefined) winners[id] = resolution;
  }
  return winners;
}

function mapDefined<T, R>(value: T | undefined, map: (value: T) => R): R | undefined {
  return value === undefined ? undefined : map(value);
}

/** The requests of a suspended turn that still wait for a decision (expired ones left out). */
export function openApprovalRequests(suspended: SuspendedTurn | undefined, now: Date): ApprovalRequest[] {
  if (suspended === undefined) return [];
  // The same deadline rule as a decision: an expired request is decided, not open.
  return expireApprovals(suspended, now)
    .suspended.approvals.filter((approval) => approval.resolution === undefined)
    .map(({ index: _index, resolution: _resolution, ...request }) => request);
}
