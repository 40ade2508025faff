import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { eventTrail, hasEvent, recordEvents, registerRequest, scope } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** `closeScope` enforces each live task's close policy. */
export const describeClosePolicies: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("close policies", () => {
    const context = useHost(harness);

    it("closing a session keeps `keep` tasks, cancels `cancel` tasks and moves `transfer` tasks to the parent", async () => {
      const host = context.host();
      const events = recordEvents(host);
      await host.register(registerRequest("keep", { scope: scope("child"), closePolicy: "keep" }));
      await host.register(registerRequest("cancel", { scope: scope("child"), closePolicy: "cancel", cancelPolicy: "abort_local" }));
      await host.register(registerRequest("cooperative", { scope: scope("child"), closePolicy: "cancel" }));
      await host.register(registerRequest("transfer", { scope: scope("child"), closePolicy: "transfer" }));
      await host.register(registerRequest("ended", { scope: scope("child"), closePolicy: "cancel" }));
      const ended = await host.complete("ended", { state: "completed" });
      await host.register(registerRequest("other", { scope: scope("elsewhere"), closePolicy: "cancel" }));

      const report = await host.closeScope(scope("child"), { parent: scope("parent") });
      expect(report.kept.map((record) => record.id)).toEqual(["keep"]);
      expect(report.cancelled.map((record) => record.id).sort()).toEqual(["cancel", "cooperative"]);
      expect(report.transferred.map((record) => [record.id, record.scope.sessionId])).toEqual([["transfer", "parent"]]);

      expect((await host.get("keep"))?.state).toBe("pending");
      expect((await host.get("keep"))?.scope).toEqual({ sessionId: "child" });
      expect((await host.get("cancel"))?.state).toBe("cancelled");
      expect((await host.get("cancel"))?.failure?.summary).toBe("session closed");
      expect((await host.get("cooperative"))?.state).toBe("cancel_requested");
      expect((await host.get("transfer"))?.scope).toEqual({ sessionId: "parent" });
      expect((await host.get("transfer"))?.state).toBe("pending");
      expect(await host.get("ended")).toEqual(ended);
      expect((await host.get("other"))?.state).toBe("pending");
      await events.until(hasEvent("transferred", "transfer"));
      await events.until(hasEvent("cancelled", "cancel"));
      expect(eventTrail(events.items, "ended")).toEqual(["registered", "completed"]);
      events.stop();
    });

    it("without a parent scope, `transfer` tasks are kept; a given reason is recorded for cancelled ones", async () => {
      const host = context.host();
      await host.register(registerRequest("transfer", { closePolicy: "transfer" }));
      await host.register(registerRequest("cancel", { closePolicy: "cancel", cancelPolicy: "abort_local" }));
      const report = await host.closeScope(scope("s1"), { reason: "user closed the tab" });
      expect(report.kept.map((record) => record.id)).toEqual(["transfer"]);
      expect(report.transferred).toEqual([]);
      expect((await host.get("transfer"))?.scope).toEqual({ sessionId: "s1" });
      expect((await host.get("cancel"))?.failure?.summary).toBe("user closed the tab");
    });

    it("closing an empty or unknown scope does nothing", async () => {
      const host = context.host();
      expect(await host.closeScope(scope("nobody"))).toEqual({ kept: [], cancelled: [], transferred: [] });
    });
  });
};
