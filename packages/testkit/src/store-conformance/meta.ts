import type { SessionMeta } from "@lash/protocol";
import type { SessionHarnessArea } from "./area.js";
import { useBackend } from "./conformance-context.js";
import { headRevisionOf, listAllSessions, listedCore, observeSession } from "./expectations.js";
import { childRelation, createRequest, handoffRelation, sessionMeta, turnCommit } from "./fixtures.js";
import { vitestApi } from "./vitest-api.js";

/** `saveSessionMeta`, `loadSessionMeta`, and the meta `factory.createStore` writes. */
export const describeMeta: SessionHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  /** The meta a factory writes for `request` (its `createdAt` is the factory's clock, so it is left out). */
  /**
   * A factory's meta without what depends on when and where it ran: `createdAt`, and `cwd` (a
   * factory may record the host's working directory, or leave it out).
   */
  function withoutCreationContext(meta: SessionMeta | undefined): Omit<SessionMeta, "createdAt" | "cwd"> | undefined {
    if (meta === undefined) return undefined;
    const { createdAt: _createdAt, cwd: _cwd, ...rest } = meta;
    return rest;
  }

  describe("session meta", () => {
    const context = useBackend(harness);

    it("a session without saved meta has no meta, committed or not", async () => {
      const store = await context.open("s1");
      expect(await store.loadSessionMeta()).toBeUndefined();
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      expect(await store.loadSessionMeta()).toBeUndefined();
    });

    it("saved meta reads back exactly, optional fields and handoff metadata included", async () => {
      const store = await context.open("child");
      const meta = sessionMeta("child", {
        relation: handoffRelation("parent"),
        sessionName: "Handed over",
        model: "other-model",
        cwd: "/home/user/project",
      });
      await store.saveSessionMeta(meta);
      expect(await store.loadSessionMeta()).toEqual(meta);
      expect(await (await context.open("child")).loadSessionMeta()).toEqual(meta);
    });

    it("saving meta again replaces the earlier meta as a whole (fields left out are gone)", async () => {
      const store = await context.open("s1");
      await store.saveSessionMeta(sessionMeta("s1", { relation: childRelation("p"), cwd: "/tmp/first" }));
      const replacement = sessionMeta("s1", { sessionName: "renamed" });
      await store.saveSessionMeta(replacement);
      const loaded = await store.loadSessionMeta();
      expect(loaded).toEqual(replacement);
      expect(loaded?.cwd).toBeUndefined();
      expect(loaded?.parentSessionId).toBeUndefined();
    });

    it("meta alone creates no head: the session loads as undefined but is listed at head revision 0", async () => {
      const store = await context.open("s1");
      await store.saveSessionMeta(sessionMeta("s1"));
      expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
      expect(await headRevisionOf(store)).toBeUndefined();
      expect(listedCore(await listAllSessions(store))).toEqual([{ sessionId: "s1", headRevision: 0, meta: sessionMeta("s1") }]);
    });

    it("commits leave the meta alone, and saving meta leaves the head alone", async () => {
      const store = await context.open("s1");
      await store.saveSessionMeta(sessionMeta("s1", { sessionName: "kept" }));
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      expect(await store.loadSessionMeta()).toEqual(sessionMeta("s1", { sessionName: "kept" }));
      const before = await observeSession(store, context.capabilities.activePathScope);
      await store.saveSessionMeta(sessionMeta("s1", { sessionName: "renamed" }));
      expect({ ...(await observeSession(store, context.capabilities.activePathScope)), meta: before.meta }).toEqual(before);
    });

    it("factory.createStore writes meta from the request when there is none: name = session id, model = policy model, parent and relation", async () => {
      const factory = context.backend().factory;
      const child = await factory.createStore(createRequest("child-1", childRelation("root-1"), "child-model"));
      const meta = await child.loadSessionMeta();
      expect(withoutCreationContext(meta)).toEqual(
        withoutCreationContext(sessionMeta("child-1", { relation: childRelation("root-1"), model: "child-model" })),
      );
      expect(typeof meta?.createdAt).toBe("string");
      expect(meta?.cwd === undefined || typeof meta.cwd === "string").toBe(true);
      const root = await factory.createStore(createRequest("root-1"));
      const rootMeta = await root.loadSessionMeta();
      expect(rootMeta?.relation).toEqual({ type: "root" });
      expect(rootMeta?.parentSessionId).toBeUndefined();
      expect(await child.loadSession({ type: "full_graph" })).toBeUndefined();
    });

    it("factory.createStore keeps existing meta (saved by the host, or by an earlier createStore)", async () => {
      const factory = context.backend().factory;
      const hostMeta = sessionMeta("s1", { sessionName: "named by the host", cwd: "/srv" });
      await (await context.open("s1")).saveSessionMeta(hostMeta);
      expect(await (await factory.createStore(createRequest("s1", childRelation("someone"), "another-model"))).loadSessionMeta()).toEqual(
        hostMeta,
      );
      const first = await (await factory.createStore(createRequest("s2", { type: "root" }, "first-model"))).loadSessionMeta();
      const again = await (await factory.createStore(createRequest("s2", handoffRelation("x"), "second-model"))).loadSessionMeta();
      expect(again).toEqual(first);
    });

    it("factory.createStore on an existing session returns a store over its existing data", async () => {
      const store = await context.open("s1");
      await store.commit(turnCommit({ sessionId: "s1", turnKey: "t1" }));
      const before = await store.loadSession({ type: "full_graph" });
      const reopened = await context.backend().factory.createStore(createRequest("s1"));
      expect(await reopened.loadSession({ type: "full_graph" })).toEqual(before);
    });

    it("factory.createStore at the same time as saveSessionMeta never overwrites the saved meta (the check and the write are one step)", async () => {
      const hostMeta = sessionMeta("s1", { sessionName: "host meta" });
      const store = await context.open("s1");
      await Promise.all([context.backend().factory.createStore(createRequest("s1")), store.saveSessionMeta(hostMeta)]);
      expect(await store.loadSessionMeta()).toEqual(hostMeta);
      const other = await context.open("s2");
      await Promise.all([
        other.saveSessionMeta(sessionMeta("s2", { sessionName: "host meta" })),
        context.backend().factory.createStore(createRequest("s2")),
      ]);
      expect(await other.loadSessionMeta()).toEqual(sessionMeta("s2", { sessionName: "host meta" }));
    });

    it("two factory.createStore calls for one id at the same time leave one meta that both stores see", async () => {
      const factory = context.backend().factory;
      const [first, second] = await Promise.all([
        factory.createStore(createRequest("s1", { type: "root" }, "model-a")),
        factory.createStore(createRequest("s1", { type: "root" }, "model-b")),
      ]);
      const seenByFirst = await first.loadSessionMeta();
      expect(seenByFirst).toBeDefined();
      expect(await second.loadSessionMeta()).toEqual(seenByFirst);
      expect((await listAllSessions(first)).map((summary) => summary.sessionId)).toEqual(["s1"]);
    });
  });
};
