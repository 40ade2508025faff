import net from "node:net";
import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { afterEach, describe, expect, it } from "vitest";
import { createSession, startTestServer, type TestServer } from "./server-harness.js";

/** Sends `head` (request line and header lines) and `body` over a raw socket; resolves with everything the server answered. */
function rawRequest(url: string, head: readonly string[], body: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.end(`${[...head, `Content-Length: ${Buffer.byteLength(body)}`, "Connection: close"].join("\r\n")}\r\n\r\n${body}`);
    });
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("request headers on the turn route", () => {
  it("reads repeated headers as Node parsed them: the first Content-Type, every Accept line", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("hello")], { repeat: true }), store: "memory:" });
    const sessionId = await createSession(server);
    const answer = await rawRequest(
      server.url,
      [
        `POST /v1/sessions/${sessionId}/turns HTTP/1.1`,
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        "Content-Type: text/plain",
        "Accept: application/json",
        "Accept: text/event-stream",
      ],
      '{"input":"Hi"}',
    );
    // A web `Headers` would read the two Content-Type lines as "application/json, text/plain" (a 415).
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.toLowerCase()).toContain("content-type: text/event-stream");
    expect(answer).toContain("event: result");
    expect(answer).toContain('"text":"hello"');

    const refused = await rawRequest(
      server.url,
      [`POST /v1/sessions/${sessionId}/turns HTTP/1.1`, "Host: 127.0.0.1", "Content-Type: text/plain"],
      '{"input":"Hi"}',
    );
    expect(refused).toMatch(/^HTTP\/1\.1 415 /);
    expect(refused).toContain('"code":"unsupported_media_type"');
  });
});
