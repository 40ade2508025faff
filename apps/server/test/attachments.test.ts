import { createHash } from "node:crypto";
import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { afterEach, describe, expect, it } from "vitest";
import { requestJson } from "./server-harness.js";
import { bearer, createSessionAs, type KeyedServer, startKeyedServer } from "./tenant-harness.js";

let server: KeyedServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A 1x1 PNG followed by `padding` zero bytes: still a PNG by its signature, with another hash per padding. */
function png(padding: number): Buffer {
  const image = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
  return Buffer.concat([image, Buffer.alloc(padding)]);
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

/** Runs a turn whose input is a text and `image`, as `key`'s tenant. */
async function sendImage(url: string, key: string, sessionId: string, image: Buffer): Promise<void> {
  const answered = await requestJson(`${url}/v1/sessions/${sessionId}/turns`, {
    headers: bearer(key),
    body: {
      input: [
        { type: "text", text: "What is this?" },
        { type: "image", data: image.toString("base64") },
      ],
    },
  });
  expect(answered.status).toBe(200);
}

describe("GET /v1/sessions/{id}/attachments/{attachmentId}", () => {
  it("serves the bytes of an image the session's messages show, and nothing else", async () => {
    server = await startKeyedServer({
      provider: new ScriptedProvider([textStep("A pixel."), textStep("Another pixel.")]),
      tenants: ["alice", "bob"],
    });
    const alice = server.keys.alice ?? "";
    const bob = server.keys.bob ?? "";
    const first = await createSessionAs(server, alice);
    const second = await createSessionAs(server, alice);
    const image = png(300 * 1024); // more than one chunk of the store
    const other = png(16);
    await sendImage(server.url, alice, first, image);
    await sendImage(server.url, alice, second, other);

    // The id the message names is the bytes' hash.
    const state = await requestJson(`${server.url}/v1/sessions/${first}`, { headers: bearer(alice) });
    const parts = (state.body as { messages: { parts: { kind: string; attachment?: { id: string } }[] }[] }).messages[0]?.parts ?? [];
    const attachmentId = parts.find((part) => part.kind === "image")?.attachment?.id;
    expect(attachmentId).toBe(sha256(image));
    const url = `${server.url}/v1/sessions/${first}/attachments/${attachmentId}`;

    const served = await fetch(url, { headers: bearer(alice) });
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(served.headers.get("content-length")).toBe(String(image.byteLength));
    expect(served.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    expect(served.headers.get("content-disposition")).toBe("inline");
    expect(Buffer.from(await served.arrayBuffer()).equals(image)).toBe(true);

    // Another tenant: the session does not exist for it.
    const foreign = await requestJson(url, { headers: bearer(bob) });
    expect(foreign).toMatchObject({ status: 404, body: { error: { code: "session_not_found" } } });
    // Stored, but referenced by another session only: not readable through this one.
    const elsewhere = await requestJson(`${server.url}/v1/sessions/${first}/attachments/${sha256(other)}`, { headers: bearer(alice) });
    expect(elsewhere).toMatchObject({ status: 404, body: { error: { code: "attachment_not_found" } } });
    expect((await fetch(`${server.url}/v1/sessions/${second}/attachments/${sha256(other)}`, { headers: bearer(alice) })).status).toBe(200);
    // Stored directly, referenced by no session at all.
    const loose = await server.store.factory.attachments?.put(png(32));
    expect(loose).toBeDefined();
    const unreferenced = await requestJson(`${server.url}/v1/sessions/${first}/attachments/${loose?.id}`, { headers: bearer(alice) });
    expect(unreferenced).toMatchObject({ status: 404, body: { error: { code: "attachment_not_found" } } });
    // An id nothing holds, a malformed id, an unknown session, and no key.
    const unknown = await requestJson(`${server.url}/v1/sessions/${first}/attachments/${"0".repeat(64)}`, { headers: bearer(alice) });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "attachment_not_found" } } });
    const malformed = await requestJson(`${server.url}/v1/sessions/${first}/attachments/not-a-hash`, { headers: bearer(alice) });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    const noSession = await requestJson(`${server.url}/v1/sessions/no-such-session/attachments/${attachmentId}`, {
      headers: bearer(alice),
    });
    expect(noSession).toMatchObject({ status: 404, body: { error: { code: "session_not_found" } } });
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { method: "DELETE", headers: bearer(alice) })).status).toBe(405);
  });
});
