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
 * promise is created at all (the common, fast case).
 */
export class TurnEventPipe {
  readonly #assembler: TurnAssembler;
  readonly #events: EventSink | undefined;
  readonly #activities: TurnActivitySink | undefined;
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

  /** Emits a session event, preceded by its projected activity when it has one. */
  session(event: SessionEvent): Delivery {
    const projected = projectSessionEvent(event);
    if (projected) {
      const first = this.activity(projected, randomUUID());
      const second = this.#enqueue(() => this.#deliverSession(event));
      return isPromise(first) ? first.then(() => second) : second;
    }
    return this.#enqueue(() => this.#deliverSession(event));
  }

  /** Emits a session event without projecting it (plugin events from turn-level hooks). */
  sessionOnly(event: SessionEvent): Delivery {
    return this.#enqueue(() => this.#deliverSession(event));
  }

  /** Emits an activity with the given correlation id (a fresh one when absent). */
  activity(event: TurnEvent, correlationId: string = randomUUID()): Delivery {
    return this.#enqueue(() => this.#deliverActivity({ id: randomUUID(), correlationId, ...event } as TurnActivity));
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

  #enqueue(deliver: () => Delivery): Delivery {
    const tail = this.#tail;
    if (tail !== undefined) {
      const next = tail.then(deliver);
      this.#track(next);
      return next;
    }
    const result = deliver();
    if (isPromise(result)) {
      this.#track(result);
      return result;
    }
    return undefined;
  }

  #track(promise: Promise<void>): void {
    this.#tail = promise;
    promise.then(
      () => {
        if (this.#tail === promise) this.#tail = undefined;
      },
      () => {
        if (this.#tail === promise) this.#tail = undefined;
      },
    );
  }
}
