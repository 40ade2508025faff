import { ScriptedProvider, textStep, toolCallStep } from "@lash/adapter-scripted";
import { defineTool } from "@lash/core";
import { approvalListResponseSchema, turnResultSchema } from "@lash/remote-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createSession, readEvents, requestJson, startTestServer, type TestServer } from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function deployTool(deployed: string[]) {
  return defineTool({
    name: "deploy",
    description: "Deploy a service.",
    inputSchema: z.object({ service: z.string() }),
    needsApproval: true,
    describeApproval: ({ service }) => `deploy ${service} to production`,
    execute: ({ service }) => {
      deployed.push(service);
      return `${service} is live`;
    },
  });
}

describe("durable approvals over HTTP", () => {
  it("suspends a turn, lists its request, and continues the same turn when it is approved", async () => {
    const deployed: string[] = [];
    server = await startTestServer({
      provider: new ScriptedProvider([
        toolCallStep([{ callId: "call-1", name: "deploy", args: { service: "api" } }]),
        textStep("api is live."),
      ]),
      profile: { tools: [deployTool(deployed)] },
    });
    const sessionId = await createSession(server);
    const waiting = turnResultSchema.parse(
      (await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Deploy api" } })).body,
    );
    expect(waiting.outcome).toMatchObject({ type: "stopped", stop: { type: "awaiting_approval" } });
    expect(deployed).toEqual([]);

    const listed = approvalListResponseSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessionId}/approvals`)).body);
    expect(listed.approvals).toHaveLength(1);
    const request = listed.approvals[0]!;
    expect(request).toMatchObject({ sessionId, turnId: waiting.turnId, tool: "deploy", summary: "deploy api to production" });
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}`)).body).toMatchObject({ awaitingApproval: true });

    // A new turn must wait for the decision.
    const refused = await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Something else" } });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: "turn_awaiting_approval" } } });

    const decided = await requestJson(`${server.url}/v1/sessions/${sessionId}/approvals/${request.id}`, { body: { decision: "approve" } });
    expect(decided.status).toBe(200);
    const finished = turnResultSchema.parse(decided.body);
    expect(finished).toMatchObject({
      turnId: waiting.turnId,
      turnIndex: 1,
      outcome: { type: "finished" },
      answer: { text: "api is live." },
    });
    expect(finished.toolCalls.map((call) => call.approval)).toMatchObject([{ decision: "approved", decidedBy: "api" }]);
    expect(deployed).toEqual(["api"]);
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}/approvals`)).body).toEqual({ approvals: [] });

    // The turn's event log goes on across its segments: two `turn` events, two results, one count.
    const events = await readEvents(await fetch(`${server.url}/v1/sessions/${sessionId}/turns/${waiting.turnId}/events`));
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events.filter((event) => event.event === "turn").map((event) => (event.data as { resumed: boolean }).resumed)).toEqual([
      false,
      true,
    ]);
    expect(events.filter((event) => event.event === "result")).toHaveLength(2);

    // Deciding again: the decision stands.
    const again = await requestJson(`${server.url}/v1/sessions/${sessionId}/approvals/${request.id}`, { body: { decision: "reject" } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: "approval_already_decided" } });
  });

  it("answers a rejection over server-sent events; unknown requests are 404 and bad decisions 400", async () => {
    const deployed: string[] = [];
    server = await startTestServer({
      provider: new ScriptedProvider(
        [toolCallStep([{ callId: "call-1", name: "deploy", args: { service: "billing" } }]), textStep("billing was not deployed.")],
        { recordRequests: true },
      ),
      profile: { tools: [deployTool(deployed)] },
    });
    const sessionId = await createSession(server);
    await requestJson(`${server.url}/v1/sessions/${sessionId}/turns`, { body: { input: "Deploy billing" } });
    const { approvals } = approvalListResponseSchema.parse((await requestJson(`${server.url}/v1/sessions/${sessionId}/approvals`)).body);
    const approvalUrl = `${server.url}/v1/sessions/${sessionId}/approvals/${approvals[0]!.id}`;

    expect(await requestJson(approvalUrl, { body: { decision: "maybe" } })).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request" } },
    });
    expect(await requestJson(approvalUrl, { body: { decision: "approve", decidedBy: "someone" } })).toMatchObject({ status: 400 });
    expect(
      await requestJson(`${server.url}/v1/sessions/${sessionId}/approvals/no-such-request`, { body: { decision: "approve" } }),
    ).toMatchObject({
      status: 404,
      body: { error: { code: "approval_not_found", details: { ids: ["no-such-request"] } } },
    });

    const response = await fetch(approvalUrl, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ decision: "reject", reason: "frozen until Monday" }),
    });
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    expect(events[0]).toMatchObject({ event: "turn", data: { resumed: true } });
    expect(events.some((event) => event.event === "activity" && (event.data as { type: string }).type === "approval_resolved")).toBe(true);
    expect(events.at(-1)).toMatchObject({
      event: "result",
      data: { outcome: { type: "finished" }, answer: { text: "billing was not deployed." } },
    });
    expect(deployed).toEqual([]);
  });
});
