import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { hasEvent, recordEvents, registerRequest, scope } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** `list` filters and order, `transfer`. */
export const describeFiltersAndTransfer: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("filters and transfer", () => {
    const context = useHost(harness);

    it("list filters by session, kind and liveness, ordered by creation then id", async () => {
      const host = context.host();
      await host.register(registerRequest("b", { kind: "monitor" }));
      await host.register(registerRequest("a", { kind: "other" }));
      await host.register(registerRequest("c", { kind: "monitor", scope: scope("s2") }));
      await host.register(registerRequest("d", { kind: "subagent" }));
      await host.complete("d", { state: "completed" });
      const ids = async (filter: Parameters<typeof host.list>[0]) => (await host.list(filter)).map((record) => record.id);
      const everything = await host.list({ includeTerminal: true });
      const ordered = [...everything].sort(
        (left, right) => left.createdAt - right.createdAt || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0),
      );
      expect(everything.map((record) => record.id)).toEqual(ordered.map((record) => record.id));
      expect((await ids(undefined)).sort()).toEqual(["a", "b", "c"]);
      expect((await ids({ sessionId: "s1" })).sort()).toEqual(["a", "b"]);
      expect((await ids({ sessionId: "s1", includeTerminal: true })).sort()).toEqual(["a", "b", "d"]);
      expect(await ids({ kind: "monitor", sessionId: "s2" })).toEqual(["c"]);
      expect((await ids({ kind: "monitor" })).sort()).toEqual(["b", "c"]);
      expect(await ids({ kind: "subagent" })).toEqual([]);
      expect(await ids({ kind: "subagent", includeTerminal: true })).toEqual(["d"]);
      expect(await ids({ sessionId: "nobody", includeTerminal: true })).toEqual([]);
    });

    it("transfer rewrites the scope, moves list visibility and emits one transferred event; a move to the same scope emits nothing", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.register(registerRequest("t1"));
      const moved = await host.transfer("t1", scope("s2"));
      expect(moved.scope).toEqual({ sessionId: "s2" });
      expect(await host.list({ sessionId: "s1" })).toEqual([]);
      expect((await host.list({ sessionId: "s2" })).map((record) => record.id)).toEqual(["t1"]);
      expect(await host.transfer("t1", scope("s2"))).toEqual(moved);
      await host.register(registerRequest("marker"));
      await events.until(hasEvent("registered", "marker"));
      const transfers = events.items.filter((event) => event.type === "transferred");
      expect(transfers).toHaveLength(1);
      expect(transfers[0]).toMatchObject({ taskId: "t1", scope: { sessionId: "s2" }, previousScope: { sessionId: "s1" } });
      events.stop();
    });
  });
};
