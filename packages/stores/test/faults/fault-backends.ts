import type { SessionStore } from "@lash/protocol";

/** The durable backends the fault tests kill writers of. */
export type FaultBackendKind = "sqlite" | "fs" | "postgres";

/** A backend opened by a test or a writer process. */
export interface FaultBackend {
  openSession(sessionId: string): SessionStore | Promise<SessionStore>;
  close(): Promise<void>;
}

/** The PostgreSQL server the fault tests use (`DATABASE_URL`, else the local test database). */
export const FAULT_POSTGRES_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Opens the backend a writer process or a check uses (the location is already migrated). Each
 * backend's modules are imported only when used: a writer process starts once per kill, and loading
 * drivers it does not need would dominate the test's run time.
 */
export async function openFaultBackend(kind: FaultBackendKind, location: string): Promise<FaultBackend> {
  switch (kind) {
    case "sqlite": {
      const { createSqlSessionDatabase } = await import("../../src/sql/index.js");
      const database = createSqlSessionDatabase({ connection: `sqlite:${location}` });
      return { openSession: (sessionId) => database.openSession(sessionId), close: () => database.destroy() };
    }
    case "postgres": {
      const { createSqlSessionDatabase } = await import("../../src/sql/index.js");
      const database = createSqlSessionDatabase({ connection: FAULT_POSTGRES_URL, schema: location, maxConnections: 2 });
      return { openSession: (sessionId) => database.openSession(sessionId), close: () => database.destroy() };
    }
    case "fs": {
      const { createFileSessionDatabase } = await import("../../src/fs/index.js");
      const database = createFileSessionDatabase({ root: location });
      return { openSession: (sessionId) => database.openSession(sessionId), close: async () => {} };
    }
  }
}
