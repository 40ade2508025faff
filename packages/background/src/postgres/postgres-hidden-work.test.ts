import { describe, expect, it } from "vitest";
import { HiddenWorkTracker } from "./postgres-hidden-work.js";

/** Lets already-queued promise callbacks and timers run (macrotask turns, not a time measurement). */
async function settle(turns = 5): Promise<void> {
  for (let index = 0; index < turns; index += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

describe("durable host hidden work memory", () => {
  it("forgets a job once it settled, even when nobody awaits it", async () => {
    const tracker = new HiddenWorkTracker();
    for (let index = 0; index < 50; index += 1) tracker.spawn(`s${index}`, `job ${index}`, async () => undefined);
    expect(tracker.sessionCount).toBe(50);
    await settle();
    expect(tracker.sessionCount).toBe(0);
    await tracker.await("s1");
  });

  it("keeps failures (bounded) until awaited, waits for running jobs, and rejects with the first failure", async () => {
    const tracker = new HiddenWorkTracker();
    for (let index = 0; index < 30; index += 1) {
      tracker.spawn("s1", `job ${index}`, async () => {
        throw new Error(`failure ${index}`);
      });
    }
    tracker.spawn("s2", "thrown value", () => {
      throw "not an error";
    });
    let release: () => void = () => {};
    let finished = false;
    tracker.spawn("s1", "slow", async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      finished = true;
    });
    await settle();
    expect(tracker.sessionCount).toBe(2);
    await expect(tracker.await("s2")).rejects.toThrow("hidden background task `thrown value` failed: not an error");
    const awaited = tracker.await("s1").catch((error: unknown) => error);
    release();
    const error = await awaited;
    expect(finished).toBe(true);
    expect((error as Error).message).toBe("failure 0");
    expect(tracker.sessionCount).toBe(0);
  });
});
