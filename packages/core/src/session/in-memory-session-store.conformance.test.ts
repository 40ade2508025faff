import { describeSessionStoreConformance } from "@lash/testkit";
import { InMemorySessionDatabase } from "./in-memory-session-database.js";

// The in-memory database is the reference backend: every contract area runs against it. Its data
// lives as long as the object, so it declares no durability (the suite then checks that every handle
// on one live database sees the same data instead of reopening it). It keeps session summaries as the
// SQL and filesystem stores do.
describeSessionStoreConformance({
  name: "in-memory",
  capabilities: { activePathScope: true, durable: false, sessionSummaries: true },
  async setup() {
    const database = new InMemorySessionDatabase();
    return {
      openSession: (sessionId) => database.openSession(sessionId),
      factory: database,
      close: async () => {},
    };
  },
});
