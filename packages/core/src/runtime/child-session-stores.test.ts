import type { SessionStore, SessionStoreCreateRequest, SessionStoreFactory } from "@lash/protocol";
import { textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { MODEL } from "../../test/fixtures.js";
import { environmentFixture, expectLashError, failureOf, runtimeOn, scriptedProvider } from "../../test/persistence-helpers.js";
import { InMemorySessionDatabase, textInput } from "../index.js";

const CREATED_AT = "2024-01-01T00:00:00.000Z";

describe("child session stores from a factory: the store must be bound to the child's id and hold no session yet", () => {
  it("a factory that writes meta for the child's own id is fine: the child starts from a fresh head", async () => {
    const provider = scriptedProvider([textStep("child answer")]);
    const { environment, database } = environmentFixture({ provider });
    const runtime = await runtimeOn(environment, "root", database.openSession("root"));

    await runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } });
    await runtime.sessions.runTurn("child", textInput("task"));

    const child = database.openSession("child");
    expect(await child.loadSessionMeta()).toMatchObject({
      sessionId: "child",
      parentSessionId: "root",
      relation: { type: "child", parentSessionId: "root" },
    });
    const read = await child.loadSession({ type: "full_graph" });
    // The creation commit made revision 1 (a fresh head), the child's turn the rest.
    expect(read?.headRevision).toBeGreaterThan(1);
    expect(read?.checkpoint?.turnState.turnIndex).toBe(1);
  });

  it("a factory store whose meta names another session is a session_manager error, and nothing is written", async () => {
    const database = new InMemorySessionDatabase();
    const misbound: SessionStoreFactory = {
      async createStore(_request: SessionStoreCreateRequest): Promise<SessionStore> {
        const store = database.openSession("someone-else");
        await store.saveSessionMeta({
          sessionId: "someone-else",
          sessionName: "someone-else",
          createdAt: CREATED_AT,
          model: MODEL,
          relation: { type: "root" },
        });
        return store;
      },
    };
    const { environment } = environmentFixture({
      provider: scriptedProvider([]),
      database,
      configure: (builder) => builder.withSessionStoreFactory(misbound),
    });
    const runtime = await runtimeOn(environment, "root", database.openSession("root"));

    const error = expectLashError(
      await failureOf(() => runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } })),
      "session_manager",
    );

    expect(error.message).toContain("someone-else");
    expect(error.message).toContain("child");
    expect(runtime.sessions.sessionIds).toEqual([]);
    expect(await database.openSession("someone-else").loadHeadRevision()).toBeUndefined();
  });

  it("a factory store that already holds the child's session is a session_manager error", async () => {
    const provider = scriptedProvider([]);
    const { environment, database } = environmentFixture({ provider });
    const existing = await runtimeOn(environment, "child", database.openSession("child"));
    await existing.park();
    const runtime = await runtimeOn(environment, "root", database.openSession("root"));

    const error = expectLashError(
      await failureOf(() => runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } })),
      "session_manager",
    );

    expect(error.message).toMatch(/already holds a session/);
  });

  it("a factory that fails is a session_manager error naming the child", async () => {
    const failing: SessionStoreFactory = {
      async createStore() {
        throw new Error("no space left");
      },
    };
    const { environment, database } = environmentFixture({
      provider: scriptedProvider([]),
      configure: (builder) => builder.withSessionStoreFactory(failing),
    });
    const runtime = await runtimeOn(environment, "root", database.openSession("root"));
    const error = expectLashError(
      await failureOf(() => runtime.sessions.createSession({ sessionId: "child", relation: { type: "child", parentSessionId: "root" } })),
      "session_manager",
    );
    expect(error.message).toMatch(/failed to create store for child session `child`: no space left/);
  });
});
