import {
  type BackgroundTaskEvent,
  type BackgroundTaskRecord,
  type BackgroundTaskWatchItem,
  backgroundTaskEventMatches,
  type backgroundTaskFilterSchema,
  backgroundTaskRecordMatches,
  backgroundTaskRecordSchema,
  compareBackgroundTaskRecords,
} from "@lash/protocol";
import { Observable } from "rxjs";
import type { z } from "zod";
import type { DurableHostCore } from "./postgres-host-core.js";

/** A filter after parsing (defaults applied). */
export type ParsedTaskFilter = z.output<typeof backgroundTaskFilterSchema>;

/** The SQL condition of a filter, with its parameters. */
export function filterClause(parsed: ParsedTaskFilter): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  if (parsed.sessionId !== undefined) {
    values.push(parsed.sessionId);
    conditions.push(`scope_session_id = $${values.length}`);
  }
  if (parsed.kind !== undefined) {
    values.push(parsed.kind);
    conditions.push(`kind = $${values.length}`);
  }
  if (!parsed.includeTerminal) conditions.push("not terminal");
  return { where: conditions.length === 0 ? "true" : conditions.join(" and "), values };
}

/**
 * The records a filter lists and the event log's position, read in one statement, so they agree:
 * events are appended in the transactions that change the records.
 */
async function readSnapshot(core: DurableHostCore, parsed: ParsedTaskFilter): Promise<{ seq: number; records: BackgroundTaskRecord[] }> {
  const { where, values } = filterClause(parsed);
  const { rows } = await core.pool.query<{ seq: string; records: unknown[] | null }>(
    `select (select coalesce(max(seq), 0) from ${core.names.events}) as seq,
            (select json_agg(record) from ${core.names.tasks} where ${where}) as records`,
    values,
  );
  const first = rows[0];
  const records = (first?.records ?? []).map((record) => backgroundTaskRecordSchema.parse(record));
  return {
    seq: Number(first?.seq ?? 0),
    records: records.filter((record) => backgroundTaskRecordMatches(record, parsed)).sort(compareBackgroundTaskRecords),
  };
}

/**
 * `watch`: a snapshot, then the log's events after the snapshot's position. Events that arrive while
 * the snapshot is read are held back; those the snapshot already includes (at or below its position)
 * are dropped, the rest follow it in order.
 */
export function watchStream(core: DurableHostCore, parsed: ParsedTaskFilter): Observable<BackgroundTaskWatchItem> {
  return new Observable<BackgroundTaskWatchItem>((subscriber) => {
    let snapshotSeq: number | undefined;
    const held: { seq: number; event: BackgroundTaskEvent }[] = [];
    const subscription = core.log.events.subscribe({
      next: (logged) => {
        if (!backgroundTaskEventMatches(logged.event, parsed)) return;
        if (snapshotSeq === undefined) held.push(logged);
        else if (logged.seq > snapshotSeq) subscriber.next(logged.event);
      },
      complete: () => subscriber.complete(),
      error: (error: unknown) => subscriber.error(error),
    });
    readSnapshot(core, parsed).then(
      ({ seq, records }) => {
        if (subscriber.closed) return;
        snapshotSeq = seq;
        subscriber.next({ type: "snapshot", records });
        for (const logged of held.splice(0)) if (logged.seq > seq) subscriber.next(logged.event);
        void core.log.read();
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => subscription.unsubscribe();
  });
}
