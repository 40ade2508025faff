import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { TurnAbort, watchSignal } from "./turn-abort.js";

describe("TurnAbort", () => {
  it("tells each waiter once, with the signal already aborted, and a removed waiter not at all", () => {
    const abort = new TurnAbort();
    const heard: string[] = [];
    abort.onAbort(() => heard.push(`first, aborted: ${abort.signal.aborted}`));
    const remove = abort.onAbort(() => heard.push("removed"));
    abort.onAbort(() => heard.push("second"));
    remove();
    abort.abort("stop");
    abort.abort("again");
    expect(heard).toEqual(["first, aborted: true", "second"]);
    expect(abort.signal.reason).toBe("stop");
  });

  it("tells a waiter at once when the turn already aborted", () => {
    const abort = new TurnAbort();
    abort.abort();
    let heard = 0;
    abort.onAbort(() => {
      heard += 1;
    });
    expect(heard).toBe(1);
  });

  it("puts no listener on its signal however many waiters come and go", () => {
    const abort = new TurnAbort();
    for (let index = 0; index < 1_000; index += 1) abort.onAbort(() => {})();
    expect(getEventListeners(abort.signal, "abort")).toHaveLength(0);
  });
});

describe("watchSignal", () => {
  it("listens on a plain signal per waiter and removes the listener with the waiter", () => {
    const controller = new AbortController();
    const watch = watchSignal(controller.signal);
    const removals = [watch.onAbort(() => {}), watch.onAbort(() => {})];
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(2);
    for (const remove of removals) remove();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    let heard = 0;
    watch.onAbort(() => {
      heard += 1;
    });
    controller.abort();
    expect(heard).toBe(1);
  });
});
