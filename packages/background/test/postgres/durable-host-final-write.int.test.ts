import { dropSchema, freshSchemaName, POSTGRES_URL, postgresTestsEnabled } from "@lash/test-infrastructure/postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresBackgroundTaskHost } from "../../src/postgres/index.js";
import { FAST_TEST_OPTIONS } from "./durable-harness.js";

const enabled = await postgresTestsEnabled();

/** A timeout for waits on lease expiry and sweeps, never a time assertion. */
const LEASE_TEST_TIMEOUT_MS = 30_000;

/**
 * A pool whose transactions (`pool.connect()` without a callback, as the host's transactions take a
 * connection) fail while `failing` is above 0: a dropped connection cannot be caused on demand on a
 * local server. Plain `pool.query` calls (the event log's poll, lease renewal) are left alone.
 */
function faultyPool(): { pool: pg.Pool; fail(times: number): void; heal(): void } {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 10 });
  let failing = 0;
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { connect: (...args: unknown[]) => unknown }).connect = (...args: unknown[]) => {
    if (args.length === 0 && failing > 0) {
      failing -= 1;
      return Promise.reject(new Error("connection refused (injected fault)"));
    }
    return connect(...args);
  };
  return {
    pool,
    fail: (times) => {
      failing = times;
    },
    heal: () => {
      failing = 0;
    },
  };
}

describe.skipIf(!enabled)("durable host: the final write of in-process work", () => {
  const schemas: string[] = [];
  const bossSchema = freshSchemaName();

  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
    await dropSchema(bossSchema);
  });

  async function open(
    onError: (error: unknown) => void,
  ): Promise<{ host: PostgresBackgroundTaskHost; faults: ReturnType<typeof faultyPool> }> {
    const schema = freshSchemaName();
    schemas.push(schema);
    const faults = faultyPool();
    const host = await PostgresBackgroundTaskHost.open({ pool: faults.pool, schema, bossSchema, ...FAST_TEST_OPTIONS, onError });
    return { host, faults };
  }

  it(
    "a final write that fails for a moment is tried again, and the result is kept",
    async () => {
      const errors: unknown[] = [];
      const { host, faults } = await open((error) => errors.push(error));
      try {
        await host.spawnManaged({ sessionId: "s1" }, { id: "m1", kind: "other", producer: "test" }, async () => {
          faults.fail(2);
          return { summary: "done", value: 42 };
        });
        const ended = await host.waitForTerminal("m1");
        expect(ended.state).toBe("completed");
        expect(ended.result).toEqual({ summary: "done", value: 42 });
        expect(errors).toEqual([]);
      } finally {
        faults.heal();
        await host.close();
        await faults.pool.end();
      }
    },
    LEASE_TEST_TIMEOUT_MS,
  );

  it(
    "when the final write keeps failing, the task is no longer renewed and the sweep fails it after its lease",
    async () => {
      let reported: (error: unknown) => void = () => {};
      const firstReport = new Promise<unknown>((resolve) => {
        reported = resolve;
      });
      const { host, faults } = await open((error) => reported(error));
      try {
        await host.spawnManaged({ sessionId: "s1" }, { id: "m1", kind: "other", producer: "test" }, async () => {
          faults.fail(Number.POSITIVE_INFINITY);
          return { summary: "lost" };
        });
        const error = await firstReport;
        faults.heal();
        expect(String((error as Error).message)).toContain("m1");
        const ended = await host.waitForTerminal("m1");
        expect(ended.state).toBe("failed");
        expect(ended.failure?.summary).toContain("lease expired");
      } finally {
        faults.heal();
        await host.close();
        await faults.pool.end();
      }
    },
    LEASE_TEST_TIMEOUT_MS,
  );
});
