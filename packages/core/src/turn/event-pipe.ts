import { randomUUID } from "node:crypto";
import type { EventSink, SessionEvent, TurnActivity, TurnActivitySink, TurnEvent } from "@lash/protocol";
import { projectSessionEvent } from "./event-projection.js";
import type { TurnAssembler } from "./turn-assembler.js";

type Delivery = void | Promise<void>;

function isPromise(value: unknown): value is Promise<void> {
  return typeof value === "object" && value !== null && typeof (value as Promise<void>).then === "function";
}

/**
 * The one ordered pipe of a turn. Every event goes through it: the assembler sees it first, then
 * the sink. A sink that returns a promise back-pressures the turn, and everything emitted meanwhile
 * is queued behind it, so both sinks see one global order. When the sinks answer synchronously no
 * promise and no closure is created at all (the common, fast case).
 *
 * Activity and correlation ids are `<prefix>.<n>`: one random prefix per pipe (per run of a turn)
 * and a counter. They are unique across the session, since every run draws a new prefix, and they
 * are part of the activity object, so whatever replays a recorded activity (a turn stream's late
 * reader, a server's event log) hands out the same id. One UUID per turn instead of one per delta.
 */
export class TurnEventPipe {
  readonly #assembler: TurnAssembler;
  readonly #events: EventSink | undefined;
  readonly #activities: TurnActivitySink | undefined;
  readonly #idPrefix = `${randomUUID()}.`;
  #nextId = 0;
  #tail: Promise<void> | undefined;

  constructor(assembler: TurnAssembler, events: EventSink | undefined, activities: TurnActivitySink | undefined) {
    this.#assembler = assembler;
    this.#events = events?.isNoop ? undefined : events;
    this.#activities = activities?.isNoop ? undefined : activities;
  }

  /** True when nobody listens to activities (callers may skip building optional ones). */
  get hasActivitySink(): boolean {
    return this.#activities !== undefined;
  }

  /** A fresh id, unique across the session: for activities, and for correlation ids of new blocks. */
  freshId(): string {
    const id = this.#nextId;
    this.#nextId = id + 1;
    return this.#idPrefix + id;
  }

  /** Emits a session event, preceded by its projected activity when it has one. */
  session(event: SessionEvent): Delivery {
    const projected = projectSessionEvent(event);
    if (projected) {
      const first = this.activity(projected);
      const second = this.sessionOnly(event);
      return isPromise(first) ? first.then(() => second) : second;
    }
    return this.sessionOnly(event);
  }

  /** Emits a session event without projecting it (plugin events from turn-level hooks). */
  sessionOnly(event: SessionEvent): Delivery {
    if (this.#tail !== undefined) return this.#queue(() => this.#deliverSession(event));
    return this.#settle(this.#deliverSession(event));
  }

  /** Emits an activity with the given correlation id (a fresh one when absent). */
  activity(event: TurnEvent, correlationId?: string): Delivery {
    const id = this.freshId();
    return this.#emitActivity({ id, correlationId: correlationId ?? this.freshId(), ...event } as TurnActivity);
  }

  /**
   * Emits a streamed text or reasoning delta, the commonest activity by far: built as one literal,
   * whose fixed shape is cheaper to make, and to serialize for every reader, than `activity`'s
   * spread of an event into a new object. The same fields in the same order.
   */
  delta(type: "text_delta" | "reasoning_delta", text: string, correlationId: string): Delivery {
    return this.#emitActivity({ id: this.freshId(), correlationId, type, text });
  }

  #emitActivity(activity: TurnActivity): Delivery {
    if (this.#tail !== undefined) return this.#queue(() => this.#deliverActivity(activity));
    return this.#settle(this.#deliverActivity(activity));
  }

  /** Resolves once everything emitted so far was delivered. */
  flush(): Delivery {
    return this.#tail;
  }

  #deliverSession(event: SessionEvent): Delivery {
    this.#assembler.push(event);
    return this.#events?.emit(event);
  }

  #deliverActivity(activity: TurnActivity): Delivery {
    this.#assembler.pushTurnActivity(activity);
    return this.#activities?.emit(activity);
  }

  /** What a delivery that ran at once leaves: nothing, or a promise the next ones wait behind. */
  #settle(result: Delivery): Delivery {
    if (!isPromise(result)) return undefined;
    this.#track(result);
    return result;
  }

  #queue(deliver: () => Delivery): Promise<void> {
    const next = (this.#tail as Promise<void>).then(deliver);
    this.#track(next);
    return next;
  }

  #track(promise: Promise<void>): void {
    this.#tail = promise;
    const clear = (): void => {
      if (this.#tail === promise) this.#tail = undefined;
    };
    promise.then(clear, clear);
  }
}
