import { describe, expect, it } from "vitest";
import { TurnLog } from "./turn-log.js";

describe("TurnLog", () => {
  it("numbers events from 1 and reads those after an id", () => {
    const log = new TurnLog({ maxEvents: 100, maxBytes: 1_000_000 });
    expect(log.append("turn", { turnId: "t" })).toBe(1);
    log.append("activity", { type: "text_delta", text: "a" });
    log.append("result", { done: true });
    expect(log.lastId).toBe(3);
    const position = log.read(1, false);
    expect(position.type === "events" && position.events.map((event) => [event.id, event.event])).toEqual([
      [2, "activity"],
      [3, "result"],
    ]);
  });

  it("drops the oldest events past its bounds: a running turn's reader learns they expired, a finished turn's gets the result", () => {
    const log = new TurnLog({ maxEvents: 3, maxBytes: 1_000_000 });
    log.append("turn", {});
    for (let index = 0; index < 4; index += 1) log.append("activity", { index });
    expect(log.read(0, true)).toEqual({ type: "expired", oldestKeptId: 3 });
    log.append("result", { final: true });
    const finished = log.read(0, false);
    expect(finished.type === "events" && finished.events.map((event) => event.event)).toEqual(["result"]);
    // A reader inside the kept window reads on normally.
    const inside = log.read(4, false);
    expect(inside.type === "events" && inside.events.map((event) => event.id)).toEqual([5, 6]);
  });

  it("bounds the bytes it keeps, and keeps the last terminal event through compaction", () => {
    const log = new TurnLog({ maxEvents: 1000, maxBytes: 100 });
    for (let index = 0; index < 10; index += 1) log.append("activity", { text: "x".repeat(30) });
    const kept = log.read(0, true);
    expect(kept.type).toBe("expired");
    log.append("error", { error: { code: "internal_error", message: "boom" } });
    log.compact();
    const after = log.read(0, false);
    expect(after.type === "events" && after.events.map((event) => event.event)).toEqual(["error"]);
  });

  it("wakes waiting readers on append and on wake", async () => {
    const log = new TurnLog({ maxEvents: 10, maxBytes: 1000 });
    const first = log.waitForMore();
    log.append("turn", {});
    await first;
    const second = log.waitForMore();
    log.wake();
    await second;
  });

  it("calls a subscriber at every append and wake until it unsubscribes", () => {
    const log = new TurnLog({ maxEvents: 10, maxBytes: 1000 });
    const seen: number[] = [];
    const unsubscribe = log.subscribe(() => seen.push(log.lastId));
    log.append("turn", {});
    log.append("activity", { text: "a" });
    log.wake();
    unsubscribe();
    log.append("result", {});
    expect(seen).toEqual([1, 2, 2]);
  });

  it("keeps its events for the readers that hold it, and compacts once the last one lets go", () => {
    const log = new TurnLog({ maxEvents: 10, maxBytes: 1000 });
    log.append("turn", {});
    log.append("activity", { text: "a" });
    log.append("result", {});
    const unsubscribe = log.subscribe(() => undefined);
    const release = log.hold();
    log.compact();
    expect(log.read(0, false)).toEqual({
      type: "events",
      events: [expect.objectContaining({ id: 1 }), expect.anything(), expect.anything()],
    });
    unsubscribe();
    unsubscribe();
    expect(log.read(0, false).type === "events" && log.read(0, false)).toMatchObject({ events: { length: 3 } });
    release();
    const after = log.read(0, false);
    expect(after.type === "events" && after.events.map((event) => event.event)).toEqual(["result"]);
  });
});
