import { describe, expect, it } from "vitest";
import { DEFAULT_TURN_LOG_LIMITS } from "./turn-log.js";
import type { TurnRecord } from "./turn-record.js";
import { TurnRegistry } from "./turn-registry.js";

/** Runs a turn through the registry: opened, three events logged, finished. */
function runTurn(registry: TurnRegistry, sessionId: string, turnId: string): TurnRecord {
  const record = registry.open(sessionId, turnId);
  record.log.append("turn", { turnId });
  record.log.append("activity", { type: "text_delta", text: turnId });
  record.log.append("result", { turnId });
  registry.finish(record);
  return record;
}

/** The events a reader gets from the start of a finished turn. */
function eventsOf(record: TurnRecord): string[] {
  const position = record.log.read(0, false);
  return position.type === "events" ? position.events.map((event) => event.event) : [];
}

describe("TurnRegistry", () => {
  it("remembers the most recent ended turns, and keeps the whole log of only the newest of them", () => {
    const registry = new TurnRegistry({ ...DEFAULT_TURN_LOG_LIMITS, finishedTurnsKept: 3, finishedTurnsWithEvents: 2 });
    const records = ["t1", "t2", "t3", "t4"].map((turnId) => runTurn(registry, "s", turnId));
    expect(registry.find("s", "t1")).toBeUndefined();
    expect(registry.find("s", "t2")).toBe(records[1]);
    expect(eventsOf(records[1]!)).toEqual(["result"]);
    expect(eventsOf(records[2]!)).toEqual(["turn", "activity", "result"]);
    expect(eventsOf(records[3]!)).toEqual(["turn", "activity", "result"]);
    // A turn of another session is another session's.
    expect(registry.find("other", "t3")).toBeUndefined();
  });

  it("keeps a resumed turn's log while it runs again, and counts it as the newest when it ends", () => {
    const registry = new TurnRegistry({ ...DEFAULT_TURN_LOG_LIMITS, finishedTurnsKept: 10, finishedTurnsWithEvents: 1 });
    const first = runTurn(registry, "s", "t1");
    const resumed = registry.open("s", "t1");
    expect(resumed).toBe(first);
    runTurn(registry, "s", "t2");
    // t1 runs again: the turn that ended meanwhile does not compact it.
    expect(eventsOf(first)).toEqual(["turn", "activity", "result"]);
    first.log.append("result", { again: true });
    registry.finish(first);
    expect(eventsOf(first)).toEqual(["turn", "activity", "result", "result"]);
    expect(eventsOf(registry.find("s", "t2")!)).toEqual(["result"]);
  });

  it("forgets every turn of a deleted session, and a forgotten turn no longer counts against the bounds", () => {
    const registry = new TurnRegistry({ ...DEFAULT_TURN_LOG_LIMITS, finishedTurnsKept: 10, finishedTurnsWithEvents: 2 });
    runTurn(registry, "gone", "g1");
    runTurn(registry, "gone", "g2");
    const kept = runTurn(registry, "s", "t1");
    registry.forgetSession("gone");
    expect(registry.find("gone", "g1")).toBeUndefined();
    expect(registry.find("gone", "g2")).toBeUndefined();
    const newest = runTurn(registry, "s", "t2");
    expect(eventsOf(kept)).toEqual(["turn", "activity", "result"]);
    expect(eventsOf(newest)).toEqual(["turn", "activity", "result"]);
  });
});
