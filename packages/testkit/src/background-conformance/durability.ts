import { vitestApi } from "../store-conformance/vitest-api.js";
import type { BackgroundHarnessArea } from "./area.js";
import { registerRequest } from "./background-fixtures.js";
import { useHost } from "./host-context.js";

/** Records survive a new host over the same storage (behind `durable`). */
export const describeDurability: BackgroundHarnessArea = (harness) => {
  const { describe, it, expect } = vitestApi();

  describe("durability", () => {
    const context = useHost(harness);

    if (!harness.capabilities.durable) {
      it("(declared: not durable) a new host starts with no tasks", async () => {
        await context.host().register(registerRequest("t1"));
        const fresh = await context.recreate({});
        expect(await fresh.list({ includeTerminal: true })).toEqual([]);
      });
      return;
    }

    it("registered, updated and ended records are the same after reopening", async () => {
      const host = context.host();
      await host.register(registerRequest("live", { cancelPolicy: "external", closePolicy: "transfer" }));
      await host.update("live", { state: "waiting", progress: "parked" });
      await host.register(registerRequest("ended"));
      await host.complete("ended", { state: "failed", summary: "broke", value: { code: 7 } });
      const before = await host.list({ includeTerminal: true });
      const reopened = await context.reopen();
      expect(await reopened.list({ includeTerminal: true })).toEqual(before);
      const cancelled = await reopened.requestCancel("live", "after restart");
      expect(cancelled.state).toBe("cancel_requested");
      await expect(reopened.complete("ended", { state: "completed" })).rejects.toThrow();
    });
  });
};
