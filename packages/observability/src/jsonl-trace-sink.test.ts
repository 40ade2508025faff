import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TraceRecord } from "@lash/protocol";
import { LashError, traceRecordSchema } from "@lash/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createJsonlTraceSink } from "./jsonl-trace-sink.js";

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "lash-trace-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function commitRecord(turnId: string, commitId: string): TraceRecord {
  return { type: "commit", timestamp: new Date(0).toISOString(), sessionId: "root", turnId, commitId, ok: true, durationMs: 0 };
}

function lines(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "");
}

describe("createJsonlTraceSink", () => {
  it("appends one parseable record per line, in order, to an existing file", async () => {
    const path = join(directory, "trace.jsonl");
    writeFileSync(path, `${JSON.stringify(commitRecord("old", "old"))}\n`);
    const sink = createJsonlTraceSink(path);
    for (let index = 0; index < 5; index += 1) void sink.record(commitRecord("t", `c${index}`));
    await sink.close();
    const parsed = lines(path).map((line) => traceRecordSchema.parse(JSON.parse(line)));
    expect(parsed.map((record) => (record.type === "commit" ? record.commitId : ""))).toEqual(["old", "c0", "c1", "c2", "c3", "c4"]);
  });

  it("truncates when asked", async () => {
    const path = join(directory, "trace.jsonl");
    writeFileSync(path, "garbage\n");
    const sink = createJsonlTraceSink(path, { truncate: true });
    void sink.record(commitRecord("t", "c"));
    await sink.close();
    expect(lines(path)).toHaveLength(1);
  });

  it("never interleaves lines when many writers append to one file at once", async () => {
    const path = join(directory, "shared.jsonl");
    // Several sinks (separate descriptors, as separate runtimes would have) and many concurrent
    // producers per sink, with records up to ~200 KB so writes span many pages.
    const sinks = Array.from({ length: 4 }, () => createJsonlTraceSink(path));
    const producers = sinks.flatMap((sink, sinkIndex) =>
      Array.from({ length: 8 }, async (_, producer) => {
        for (let index = 0; index < 25; index += 1) {
          const size = (index * 7919 + producer * 104_729) % 200_000;
          sink.record({ ...commitRecord(`turn-${sinkIndex}-${producer}`, `${index}:${"x".repeat(size)}`) });
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    await Promise.all(producers);
    await Promise.all(sinks.map((sink) => sink.close()));
    const records = lines(path).map((line) => traceRecordSchema.parse(JSON.parse(line)));
    expect(records).toHaveLength(4 * 8 * 25);
    // Each producer's records arrive in its own order.
    const byTurn = new Map<string, number[]>();
    for (const record of records) {
      if (record.type !== "commit") continue;
      const list = byTurn.get(record.turnId) ?? [];
      list.push(Number(record.commitId.split(":")[0]));
      byTurn.set(record.turnId, list);
    }
    for (const list of byTurn.values()) expect(list).toEqual(Array.from({ length: 25 }, (_, index) => index));
  });

  it("a path that cannot be opened is a typed configuration error naming the path", () => {
    const cases = [join(directory, "missing", "trace.jsonl"), directory, ""];
    for (const path of cases) {
      try {
        createJsonlTraceSink(path);
        expect.unreachable();
      } catch (error) {
        expect(LashError.isInstance(error)).toBe(true);
        expect((error as LashError).code).toBe("invalid_configuration");
        if (path !== "") expect((error as Error).message).toContain(path);
      }
    }
    expect(() => createJsonlTraceSink("trace\0.jsonl")).toThrow(/NUL/);
    expect(() => createJsonlTraceSink(42 as unknown as string)).toThrow(LashError);
  });

  it("reports a failed write from flush as a typed error, never from record", async () => {
    // /dev/full accepts the open and fails every write with ENOSPC.
    const sink = createJsonlTraceSink("/dev/full");
    expect(() => sink.record(commitRecord("t", "c"))).not.toThrow();
    await expect(sink.flush()).rejects.toMatchObject({ code: "store_unavailable" });
    expect(() => sink.record(commitRecord("t", "d"))).not.toThrow();
    await expect(sink.close()).rejects.toThrow(/\/dev\/full/);
  });

  it("drops records after close", async () => {
    const path = join(directory, "trace.jsonl");
    const sink = createJsonlTraceSink(path);
    void sink.record(commitRecord("t", "a"));
    await sink.close();
    void sink.record(commitRecord("t", "b"));
    await sink.close();
    expect(lines(path)).toHaveLength(1);
  });
});
