import type {
  BackgroundTaskOutcome,
  BackgroundTaskRecord,
  BackgroundTaskScope,
  BackgroundTaskState,
  BackgroundTaskWork,
  LocalBackgroundTaskCancel,
} from "@lash/protocol";
import { backgroundTaskOutcomeSchema, type backgroundTaskRegistrationSchema, parseBackgroundTaskArgument } from "@lash/protocol";
import type { z } from "zod";

/** How a task of the local host is driven. */
export type LocalTaskOrigin =
  /** `register`: its owner drives it with `update` / `complete`; nothing runs here. */
  | "registered"
  /** `spawnManaged`: the host runs its work. */
  | "managed"
  /** `registerExternal`: runs here, driven by its owner, cancelled through its hook. */
  | "external";

/** Someone waiting for the task to end. */
export interface TerminalWaiter {
  resolve(record: BackgroundTaskRecord): void;
  reject(error: unknown): void;
}

/** The local host's state for one task. `record` is private: callers only ever get copies. */
export interface LocalTaskEntry {
  record: BackgroundTaskRecord;
  readonly origin: LocalTaskOrigin;
  /** Aborted when the task is cancelled, completed from outside, or the host closes. */
  readonly controller: AbortController;
  /** Managed work not started yet (waiting for a concurrency slot). */
  work: BackgroundTaskWork | undefined;
  cancelHook: LocalBackgroundTaskCancel | undefined;
  /** True while the task counts against the concurrency limit. */
  holdsSlot: boolean;
  /** The reason of the first cancel request (recorded in `failure` when the task ends cancelled). */
  cancelReason: string | undefined;
  readonly waiters: Set<TerminalWaiter>;
}

/** A deep copy of a record, so no caller can change the host's state by mutating what it got. */
export function copyRecord(record: BackgroundTaskRecord): BackgroundTaskRecord {
  return structuredClone(record);
}

/** A registration after parsing (policies defaulted). */
export type ParsedRegistration = z.output<typeof backgroundTaskRegistrationSchema>;

/** A new task's record: `state`, both times `now`, no outcome yet. */
export function newTaskRecord(
  scope: BackgroundTaskScope,
  registration: ParsedRegistration,
  state: BackgroundTaskState,
  now: number,
): BackgroundTaskRecord {
  return {
    id: registration.id,
    kind: registration.kind,
    producer: registration.producer,
    scope: { sessionId: scope.sessionId },
    ...(registration.parentTaskId === undefined ? {} : { parentTaskId: registration.parentTaskId }),
    ...(registration.childSessionId === undefined ? {} : { childSessionId: registration.childSessionId }),
    state,
    cancelPolicy: registration.cancelPolicy,
    closePolicy: registration.closePolicy,
    attempt: registration.attempt ?? { attempt: 0 },
    createdAt: now,
    updatedAt: now,
  };
}

/** The outcome of a completion (`undefined` when it carries neither summary nor value). */
export function outcomeOf(completion: { summary?: string | undefined; value?: unknown }): BackgroundTaskOutcome | undefined {
  if (completion.summary === undefined && completion.value === undefined) return undefined;
  return parseBackgroundTaskArgument(
    backgroundTaskOutcomeSchema,
    {
      ...(completion.summary === undefined ? {} : { summary: completion.summary }),
      ...(completion.value === undefined ? {} : { value: completion.value }),
    },
    "background task outcome",
  );
}

/** The reason a cancelled task records when none was given. */
export const DEFAULT_CANCEL_REASON = "cancelled";

/** The `failure` of a task that ends cancelled: the first cancel request's reason. */
export function cancelledOutcome(entry: LocalTaskEntry): BackgroundTaskOutcome {
  return { summary: entry.cancelReason ?? DEFAULT_CANCEL_REASON };
}
