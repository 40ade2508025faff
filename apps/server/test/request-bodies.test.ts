import http from "node:http";
import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { afterEach, describe, expect, it } from "vitest";
import { createSession, requestJson, startTestServer, type TestServer } from "./server-harness.js";

// Request bodies as clients really send them: with a Content-Length, or chunked without one (a
// streaming client, a proxy), and too large either way.

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** POSTs `pieces` as a chunked body (no Content-Length), one write each; resolves with the status and the body. */
function postChunked(url: string, pieces: readonly string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    // The server may answer (413) before the body is all sent, and close: that is not this test's failure.
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    for (const piece of pieces) request.write(piece);
    request.end();
  });
}

describe("request bodies", () => {
  it("reads a chunked body without a Content-Length", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("Chunked in, answered.")]) });
    const sessionId = await createSession(server);
    const answer = await postChunked(`${server.url}/v1/sessions/${sessionId}/turns`, ['{"inp', 'ut":"He', 'llo"}']);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ sessionId, answer: { text: "Chunked in, answered." } });
  });

  it("refuses a chunked body past the cap with 413, stores nothing, and goes on serving", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([]), limits: { maxBodyBytes: 1024 } });
    const pieces = ['{"metadata":{"key":"', ...Array.from({ length: 8 }, () => "x".repeat(512)), '"}}'];
    const refused = await postChunked(`${server.url}/v1/sessions`, pieces);
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "payload_too_large", details: { maxBytes: 1024 } } });
    const listed = await requestJson(`${server.url}/v1/sessions`);
    expect(listed.status).toBe(200);
    expect((listed.body as { sessions: unknown[] }).sessions).toEqual([]);
    // A body within the cap, chunked too, still works.
    const created = await postChunked(`${server.url}/v1/sessions`, ['{"metadata":', '{"key":"v"}}']);
    expect(created.status).toBe(201);
  });

  it("refuses a body whose Content-Length is past the cap before reading it", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([]), limits: { maxBodyBytes: 1024 } });
    const refused = await requestJson(`${server.url}/v1/sessions`, { rawBody: JSON.stringify({ metadata: { key: "x".repeat(4096) } }) });
    expect(refused).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
    expect(((await requestJson(`${server.url}/v1/sessions`)).body as { sessions: unknown[] }).sessions).toEqual([]);
  });
});
