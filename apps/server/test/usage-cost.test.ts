import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScriptedProvider, textStep, usage } from "@lash/adapter-scripted";
import { DEFAULT_PRICE_TABLE, type PriceTable, withModelPrices } from "@lash/observability";
import { usageReportSchema } from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { openServerStore, startServer } from "../src/index.js";
import { createSession, requestJson, startTestServer, type TestServer } from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("GET /v1/sessions/{id}/usage", () => {
  it("answers the session's usage with its cost, labelled with the prices it used", async () => {
    server = await startTestServer({
      provider: new ScriptedProvider(
        [textStep("One.", { usage: usage(400_000, 50_000) }), textStep("Two.", { usage: usage(600_000, 50_000, 200_000) })],
        { defaultModel: "gpt-5" },
      ),
    });
    const sessionId = await createSession(server);
    for (const input of ["First", "Second"]) {
      expect((await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input } })).status).toBe(200);
    }
    const response = await requestJson(`${server.url}/v1/sessions/${sessionId}/usage`);
    expect(response.status).toBe(200);
    const report = usageReportSchema.parse(response.body);
    expect(report.rows).toEqual([
      {
        source: "turn",
        model: "gpt-5",
        priceTableDate: DEFAULT_PRICE_TABLE.effectiveDate,
        usage: expect.objectContaining({ inputTokens: 1_000_000, outputTokens: 100_000, cachedInputTokens: 200_000 }),
        cost: { priced: true, microUsd: 2_025_000, usd: "2.025000", priceTableDate: DEFAULT_PRICE_TABLE.effectiveDate },
      },
    ]);
    expect(report.cost).toEqual({
      currency: "USD",
      priceBasis: "recorded",
      priceTableDate: DEFAULT_PRICE_TABLE.effectiveDate,
      totalMicroUsd: 2_025_000,
      totalUsd: "2.025000",
      unpricedModels: [],
    });
  });

  it("keeps the cost of past turns at the prices in force when they ran, after a restart with new prices", async () => {
    const directory = await mkdtemp(join(tmpdir(), "lash-server-prices-"));
    const later = withModelPrices(
      DEFAULT_PRICE_TABLE,
      {
        "gpt-5": {
          microUsdPerMillionTokens: { input: 2_500_000, cachedInput: 250_000, output: 20_000_000, reasoning: 20_000_000 },
          inputIncludesCachedTokens: true,
        },
      },
      "2099-01-01",
    );
    const serve = async (prices: readonly PriceTable[]) => {
      const store = await openServerStore(`sqlite:${join(directory, "lash.db")}`);
      const provider = new ScriptedProvider([textStep("Done.", { usage: usage(1_000_000, 100_000, 200_000) })], { defaultModel: "gpt-5" });
      const running = await startServer({
        store,
        port: 0,
        profiles: { default: { provider } },
        prices,
        onUnexpectedError: () => undefined,
      });
      return {
        url: running.url,
        close: async () => {
          await running.close();
          await store.close();
        },
      };
    };
    try {
      const before = await serve([]);
      const created = await requestJson(`${before.url}/v1/sessions`, { body: {} });
      const sessionId = (created.body as { id: string }).id;
      expect((await requestJson(`${before.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Old prices" } })).status).toBe(200);
      await before.close();

      // The prices of gpt-5 doubled: the new server records the new table's date with the next turn.
      const after = await serve([later]);
      try {
        expect((await requestJson(`${after.url}/v1/sessions/${sessionId}/turns`, { body: { input: "New prices" } })).status).toBe(200);
        const report = usageReportSchema.parse((await requestJson(`${after.url}/v1/sessions/${sessionId}/usage`)).body);
        expect(report.rows.map((row) => [row.priceTableDate, row.cost?.microUsd])).toEqual([
          [DEFAULT_PRICE_TABLE.effectiveDate, 2_025_000],
          ["2099-01-01", 4_050_000],
        ]);
        expect(report.cost).toMatchObject({ priceBasis: "recorded", priceTableDate: "2099-01-01", totalMicroUsd: 6_075_000 });
      } finally {
        await after.close();
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
