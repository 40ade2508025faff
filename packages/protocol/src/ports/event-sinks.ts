import type { SessionEvent, TurnActivity } from "../events.js";

/**
 * Receives the low-level `SessionEvent` stream of a turn (mode-specific preview and progress data).
 * A returned promise is awaited before the turn goes on: a slow sink back-pressures the turn.
 * Sinks must not throw; an exception thrown by a sink fails the turn.
 */
export interface EventSink {
  /** True when the sink discards everything; the runtime then skips building events for it. */
  readonly isNoop?: boolean;
  /** Receives one event, in order; a returned promise is awaited before the turn goes on. Must not throw. */
  emit(event: SessionEvent): void | Promise<void>;
}

/**
 * Receives the app-facing `TurnActivity` stream of a turn, in the same order relative to the
 * `EventSink` as they were produced (a projected activity precedes its session event).
 */
export interface TurnActivitySink {
  /** True when the sink discards everything; the runtime then skips projecting activities for it. */
  readonly isNoop?: boolean;
  /** Receives one activity, in order; a returned promise is awaited (back-pressure). Must not throw. */
  emit(activity: TurnActivity): void | Promise<void>;
}
