import { describe, expect, it } from "vitest";
import { HiddenTaskPool, MAX_KEPT_HIDDEN_FAILURES } from "./hidden-task-pool.js";

/** Lets already-queued promise callbacks and timers run (macrotask turns, not a time measurement). */
async function settle(turns = 5): Promise<void> {
  for (let index = 0; index < turns; index += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

describe("HiddenTaskPool memory", () => {
  it("forgets a session once its jobs settled without failures, even when nobody awaits them", async () => {
    const pool = new HiddenTaskPool();
    for (let index = 0; index < 50; index += 1) pool.spawn(`s${index}`, async () => undefined);
    expect(pool.sessionCount).toBe(50);
    await settle();
    expect(pool.sessionCount).toBe(0);
    await pool.awaitAll("s1");
  });

  it("keeps a bounded number of failures until they are awaited, and reports the first", async () => {
    const pool = new HiddenTaskPool();
    for (let index = 0; index < MAX_KEPT_HIDDEN_FAILURES * 3; index += 1) {
      pool.spawn("s1", async () => {
        throw new Error(`failure ${index}`);
      });
    }
    await settle();
    expect(pool.sessionCount).toBe(1);
    await expect(pool.awaitAll("s1")).rejects.toThrow("failure 0");
    expect(pool.sessionCount).toBe(0);
    await pool.awaitAll("s1");
  });
});
