import { describe, expect, it } from "vitest";
import { RecencyMap } from "./recency-map.js";

describe("RecencyMap", () => {
  it("keeps its entries in the order they were last set, a key set again moving to the newest end", () => {
    const map = new RecencyMap<string, number>();
    for (const [key, value] of [
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ] as const)
      map.set(key, value);
    map.set("a", 10);
    expect([...map.entries()]).toEqual([
      ["b", 2],
      ["c", 3],
      ["a", 10],
    ]);
    expect(map.oldestKey()).toBe("b");
    expect(map.size).toBe(3);
    expect(map.get("a")).toBe(10);
    expect(map.get("z")).toBeUndefined();
    // Setting the newest again changes its value only.
    map.set("a", 11);
    expect([...map.values()]).toEqual([2, 3, 11]);
  });

  it("unlinks an entry deleted anywhere, and forgets its ends when emptied", () => {
    const map = new RecencyMap<string, number>();
    for (let index = 0; index < 5; index += 1) map.set(`k${index}`, index);
    expect(map.delete("k2")).toBe(true);
    expect(map.delete("k2")).toBe(false);
    expect(map.delete("k0")).toBe(true);
    expect(map.delete("k4")).toBe(true);
    expect([...map.values()]).toEqual([1, 3]);
    expect(map.oldestKey()).toBe("k1");
    map.delete("k1");
    map.delete("k3");
    expect(map.size).toBe(0);
    expect(map.oldestKey()).toBeUndefined();
    expect([...map.values()]).toEqual([]);
    map.set("again", 7);
    expect([...map.entries()]).toEqual([["again", 7]]);
  });

  it("drops its oldest entries first as a bounded memory does, an entry set again living on", () => {
    const map = new RecencyMap<number, number>();
    map.set(-1, -1);
    for (let index = 0; index < 10_000; index += 1) {
      map.set(index, index);
      // Set again now and then: the first entry of all outlives thousands that came after it.
      if (index % 50 === 0) map.set(-1, -1);
      while (map.size > 100) map.delete(map.oldestKey() as number);
    }
    const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, offset) => from + offset);
    expect([...map.values()]).toEqual([...range(9_901, 9_950), -1, ...range(9_951, 9_999)]);
  });

  it("lets a walk delete the entry it is on, and finds the oldest entry a test accepts", () => {
    const map = new RecencyMap<string, { readonly owner: string }>();
    map.set("t1", { owner: "x" });
    map.set("t2", { owner: "y" });
    map.set("t3", { owner: "x" });
    map.set("t4", { owner: "y" });
    expect(map.findOldest((value) => value.owner === "y")).toEqual({ owner: "y" });
    for (const [key, value] of map.entries()) if (value.owner === "x") map.delete(key);
    expect([...map.entries()].map(([key]) => key)).toEqual(["t2", "t4"]);
    expect(map.findOldest((value) => value.owner === "x")).toBeUndefined();
  });
});
