import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { afterEach, describe, expect, it } from "vitest";
import { createSession, requestJson, startTestServer, type TestServer } from "./server-harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A 1x1 PNG, followed by `padding` bytes (still a PNG by its signature), in base64. */
function png(padding = 0): string {
  const image = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
  return Buffer.concat([image, Buffer.alloc(padding)]).toString("base64");
}

describe("images in a turn's input", () => {
  it("reach the model, and may make a body larger than the ordinary cap, up to the image cap", async () => {
    const provider = new ScriptedProvider([textStep("A tiny picture.")], { recordRequests: true });
    server = await startTestServer({ provider, limits: { maxBodyBytes: 1024, maxImageBodyBytes: 64 * 1024 } });
    const sessionId = await createSession(server);
    const turns = `${server.url}/v1/sessions/${sessionId}/turns`;

    // Over the ordinary cap without an image: 413, whatever else the body says.
    const text = await requestJson(turns, { body: { input: "x".repeat(2048) } });
    expect(text).toMatchObject({ status: 413, body: { error: { code: "payload_too_large", details: { maxBytes: 1024 } } } });
    // Over the image cap with one: 413 too.
    const huge = await requestJson(turns, { body: { input: [{ type: "image", data: png(80 * 1024) }] } });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });

    const answered = await requestJson(turns, {
      body: {
        input: [
          { type: "text", text: "What is in this picture?" },
          { type: "image", data: png(4096) },
        ],
      },
    });
    expect(answered).toMatchObject({ status: 200, body: { answer: { text: "A tiny picture." } } });
    const request = JSON.stringify(provider.requests.at(-1));
    expect(request).toContain("What is in this picture?");
    expect(request).toContain("image/png");
    const state = await requestJson(`${server.url}/v1/sessions/${sessionId}`);
    const user = (state.body as { messages: { role: string; parts: { kind: string }[] }[] }).messages[0];
    expect(user?.parts.map((part) => part.kind)).toEqual(["text", "image"]);
  });

  it("refuses what is not an image with a 400 naming the item, and stores nothing", async () => {
    server = await startTestServer({ provider: new ScriptedProvider([textStep("never")]) });
    const sessionId = await createSession(server);
    const turns = `${server.url}/v1/sessions/${sessionId}/turns`;
    const notAnImage = Buffer.from("%PDF-1.7 this is a document").toString("base64");
    const refused = await requestJson(turns, {
      body: {
        input: [
          { type: "text", text: "Look" },
          { type: "image", data: notAnImage },
        ],
      },
    });
    expect(refused).toMatchObject({
      status: 400,
      body: {
        error: { code: "invalid_request", details: { issues: [{ path: "input.1.data", message: expect.stringContaining("PNG") }] } },
      },
    });
    for (const data of ["not base64!", "", `data:image/png;base64,${png()}`]) {
      const response = await requestJson(turns, { body: { input: [{ type: "image", data }] } });
      expect(response, data).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    }
    expect((await requestJson(`${server.url}/v1/sessions/${sessionId}`)).body).toMatchObject({ turnIndex: 0, messages: [] });
  });
});
