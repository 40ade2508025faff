import { LashError } from "@lash/protocol";
import { describe, expect, it, vi } from "vitest";
import { parseEnqueueRequest } from "./postgres-enqueue.js";
import { resolveHostOptions } from "./postgres-host-options.js";

function configurationError(run: () => unknown): LashError {
  try {
    run();
  } catch (error) {
    if (LashError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a LashError");
}

describe("durable host options", () => {
  it("reports background failures on stderr by default, one prefixed line each", () => {
    const resolved = resolveHostOptions({ connectionString: "postgres://127.0.0.1/db" });
    // stderr is the only place the default writes to: the spy captures it instead of printing it.
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      resolved.onError(new Error("listener lost"));
      resolved.onError("not an error");
      expect(spy.mock.calls).toEqual([["[lash background] Error: listener lost"], ["[lash background] not an error"]]);
    } finally {
      spy.mockRestore();
    }
  });

  it("applies the documented defaults", () => {
    const resolved = resolveHostOptions({ connectionString: "postgres://127.0.0.1/db" });
    expect(resolved).toMatchObject({
      schema: "lash_background",
      bossSchema: "pgboss",
      queuePrefix: "lash-task-",
      concurrency: 4,
      leaseSeconds: 300,
      inProcessLeaseSeconds: 30,
      retryDelaySeconds: 0,
      pollIntervalMs: 1000,
      maintenanceIntervalSeconds: 30,
    });
    expect(resolved.tasks.size).toBe(0);
  });

  it("rejects bad options with invalid_configuration naming the option", () => {
    const cases: [Parameters<typeof resolveHostOptions>[0], string][] = [
      [{}, "connectionString"],
      [{ connectionString: "postgres://x/db", schema: "bad-name;drop" }, "schema"],
      [{ connectionString: "postgres://x/db", bossSchema: "1abc" }, "bossSchema"],
      [{ connectionString: "postgres://x/db", leaseSeconds: 0 }, "leaseSeconds"],
      [{ connectionString: "postgres://x/db", leaseSeconds: 86_400 }, "leaseSeconds"],
      [{ connectionString: "postgres://x/db", concurrency: -1 }, "concurrency"],
      [{ connectionString: "postgres://x/db", pollIntervalMs: 1.5 }, "pollIntervalMs"],
      [{ connectionString: "postgres://x/db", tasks: { "has space": async () => undefined } }, "has space"],
    ];
    for (const [options, named] of cases) {
      const error = configurationError(() => resolveHostOptions(options));
      expect(error.code).toBe("invalid_configuration");
      expect(error.message).toContain(named);
    }
  });

  it("parses an enqueue request: the attempt policy without the attempt number, host defaults for lease and delay", () => {
    const options = resolveHostOptions({ connectionString: "postgres://x/db", leaseSeconds: 60, retryDelaySeconds: 5 });
    const parsed = parseEnqueueRequest(
      { id: "t1", kind: "other", producer: "p", scope: { sessionId: "s1" }, task: "work.one", attempt: { attempt: 4, maxAttempts: 3 } },
      options,
    );
    expect(parsed.attempt).toEqual({ maxAttempts: 3 });
    expect(parsed).toMatchObject({ task: "work.one", input: null, leaseSeconds: 60, retryDelaySeconds: 5 });
    expect(parsed.identity).toMatchObject({ id: "t1", cancelPolicy: "cooperative", closePolicy: "keep" });
    const error = configurationError(() =>
      parseEnqueueRequest({ id: "t1", kind: "other", producer: "p", scope: { sessionId: "" }, task: "x" }, options),
    );
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("scope.sessionId");
  });
});
