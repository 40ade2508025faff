import { LashError } from "@lash/protocol";
import { ScriptedProvider, textStep, usage } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { MODEL } from "../../test/fixtures.js";
import { InMemorySessionStore, LashRuntime } from "../index.js";

function builder(store: InMemorySessionStore, steps: ConstructorParameters<typeof ScriptedProvider>[0]) {
  return LashRuntime.builder()
    .withProvider(new ScriptedProvider(steps, { defaultModel: MODEL }))
    .withSessionId("root")
    .withPolicy({ model: MODEL, maxContextTokens: 200_000 })
    .withStore(store);
}

describe("withPriceTableDate", () => {
  it("records the date with the usage of every turn, and a runtime under a newer table keeps its rows apart", async () => {
    const store = new InMemorySessionStore();
    const before = await builder(store, [textStep("One.", { usage: usage(10, 2) })])
      .withPriceTableDate("2025-10-01")
      .build();
    await before.streamTurn("first");
    expect(before.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: usage(10, 2), priceTableDate: "2025-10-01" }]);

    const after = await builder(store, [textStep("Two.", { usage: usage(20, 4) })])
      .withPriceTableDate("2026-06-01")
      .build();
    await after.streamTurn("second");
    const reloaded = await builder(store, []).build();
    expect(reloaded.tokenLedger()).toEqual([
      { source: "turn", model: MODEL, usage: usage(10, 2), priceTableDate: "2025-10-01" },
      { source: "turn", model: MODEL, usage: usage(20, 4), priceTableDate: "2026-06-01" },
    ]);
  });

  it("records no date when none is configured", async () => {
    const runtime = await builder(new InMemorySessionStore(), [textStep("One.", { usage: usage(10, 2) })]).build();
    await runtime.streamTurn("first");
    expect(runtime.tokenLedger()).toEqual([{ source: "turn", model: MODEL, usage: usage(10, 2) }]);
  });

  it("refuses a date that is not YYYY-MM-DD with a configuration error naming it", async () => {
    for (const bad of ["2025-13-45", "yesterday", "2025-1-1"]) {
      const error = await builder(new InMemorySessionStore(), [])
        .withPriceTableDate(bad)
        .build()
        .catch((caught: unknown) => caught);
      expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
      expect((error as Error).message).toContain(JSON.stringify(bad));
    }
  });
});
