import { ScriptedProvider, textStep, usage } from "@lash/adapter-scripted";
import { DEFAULT_PRICE_TABLE } from "@lash/observability";
import { usageReportSchema } from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
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
        usage: expect.objectContaining({ inputTokens: 1_000_000, outputTokens: 100_000, cachedInputTokens: 200_000 }),
        cost: { priced: true, microUsd: 2_025_000, usd: "2.025000", priceTableDate: DEFAULT_PRICE_TABLE.effectiveDate },
      },
    ]);
    expect(report.cost).toEqual({
      currency: "USD",
      priceBasis: "report_time",
      priceTableDate: DEFAULT_PRICE_TABLE.effectiveDate,
      totalMicroUsd: 2_025_000,
      totalUsd: "2.025000",
      unpricedModels: [],
    });
  });
});
