import type {
  BackgroundTaskEvent,
  BackgroundTaskFilter,
  BackgroundTaskHost,
  BackgroundTaskRegisterRequest,
  BackgroundTaskRegistration,
  BackgroundTaskScope,
  BackgroundTaskWatchItem,
} from "@lash/protocol";

/** The scope of session `sessionId`. */
export function scope(sessionId: string): BackgroundTaskScope {
  return { sessionId };
}

/** A register request with defaults the tests override. */
export function registerRequest(id: string, overrides: Partial<BackgroundTaskRegisterRequest> = {}): BackgroundTaskRegisterRequest {
  return { id, kind: "other", producer: "conformance", scope: scope("s1"), ...overrides };
}

/** A registration (for the session-scoped API) with defaults the tests override. */
export function registration(id: string, overrides: Partial<BackgroundTaskRegistration> = {}): BackgroundTaskRegistration {
  return { id, kind: "monitor", producer: "conformance", ...overrides };
}

/** A promise the test resolves by hand: lets work run until the test says so, without timing. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Resolves when `signal` aborts (at once if it already did). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Items a subscription received so far, and a way to wait for a condition on them. */
export interface Recording<Item> {
  readonly items: Item[];
  completed: boolean;
  /** Resolves once `predicate(items)` holds (checked after every item). */
  until(predicate: (items: readonly Item[]) => boolean): Promise<void>;
  stop(): void;
}

function record<Item>(
  subscribe: (observer: { next(item: Item): void; complete(): void; error(error: unknown): void }) => { unsubscribe(): void },
): Recording<Item> {
  const waiters: Array<{ predicate: (items: readonly Item[]) => boolean; resolve: () => void; reject: (error: unknown) => void }> = [];
  const recording: Recording<Item> = {
    items: [],
    completed: false,
    until(predicate) {
      if (predicate(recording.items)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => waiters.push({ predicate, resolve, reject }));
    },
    stop: () => subscription.unsubscribe(),
  };
  const check = (): void => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate(recording.items)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const subscription = subscribe({
    next(item) {
      recording.items.push(item);
      check();
    },
    complete() {
      recording.completed = true;
      check();
    },
    error(error) {
      for (const waiter of waiters.splice(0)) waiter.reject(error);
    },
  });
  return recording;
}

/** Records `host.subscribe(filter)`. */
export function recordEvents(host: BackgroundTaskHost, filter?: BackgroundTaskFilter): Recording<BackgroundTaskEvent> {
  return record((observer) => host.subscribe(filter).subscribe(observer));
}

/** Records `host.watch(filter)`. */
export function recordWatch(host: BackgroundTaskHost, filter?: BackgroundTaskFilter): Recording<BackgroundTaskWatchItem> {
  return record((observer) => host.watch(filter).subscribe(observer));
}

/** `type` (and `state` for `state_changed`) of each event of one task: the shape event-order tests compare. */
export function eventTrail(events: readonly BackgroundTaskEvent[], taskId?: string): string[] {
  return events
    .filter((event) => taskId === undefined || event.taskId === taskId)
    .map((event) => (event.type === "state_changed" ? `state_changed:${event.state}` : event.type));
}

/** True once an event of `type` for `taskId` was recorded. */
export function hasEvent(type: BackgroundTaskEvent["type"], taskId: string): (events: readonly BackgroundTaskEvent[]) => boolean {
  return (events) => events.some((event) => event.type === type && event.taskId === taskId);
}

/**
 * Lets already-queued promise callbacks and timers run, so a test can check that something did NOT
 * happen after an action (a sequence of macrotask turns, not a time measurement).
 */
export async function settle(turns = 5): Promise<void> {
  for (let index = 0; index < turns; index += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}
