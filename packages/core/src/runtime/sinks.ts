import type { EventSink, SessionEvent, TurnActivity, TurnActivitySink } from "@lash/protocol";

/** Discards session events (the runtime skips emitting to it). */
export const NoopEventSink: EventSink = Object.freeze({ isNoop: true, emit: () => undefined });

/** Discards activities (the runtime skips emitting to it). */
export const NoopTurnActivitySink: TurnActivitySink = Object.freeze({ isNoop: true, emit: () => undefined });

/** A sink that keeps what it receives, in order (handy in tests and examples). */
export class RecordingEventSink implements EventSink {
  readonly events: SessionEvent[] = [];
  emit(event: SessionEvent): void {
    this.events.push(event);
  }
}

/** A sink that keeps every activity, in order. */
export class RecordingTurnActivitySink implements TurnActivitySink {
  readonly activities: TurnActivity[] = [];
  emit(activity: TurnActivity): void {
    this.activities.push(activity);
  }
}
