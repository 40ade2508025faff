import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { sessionListResponseSchema } from "@lash/remote-protocol";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { requestJson } from "./server-harness.js";
import { bearer, createSessionAs, type KeyedServer, startKeyedServer } from "./tenant-harness.js";

let server: KeyedServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("the compatibility routes with API keys", () => {
  it("take the lash key as the OpenAI client's key, and keep each tenant's sessions to itself", async () => {
    server = await startKeyedServer({
      provider: new ScriptedProvider([textStep("Hello, acme."), textStep("unused")]),
      tenants: ["acme", "globex"],
    });
    const acmeKey = server.keys.acme ?? "";
    const globexKey = server.keys.globex ?? "";
    const acme = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: acmeKey, maxRetries: 0 });
    const globex = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: globexKey, maxRetries: 0 });

    const { data, response } = await acme.chat.completions
      .create({ model: "default", messages: [{ role: "user", content: "Hello" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Hello, acme.");
    const sessionId = response.headers.get("x-lash-session-id") ?? "";

    // The session is acme's: listed for acme only, and a 404 for globex on both routes.
    const listed = (key: string) =>
      requestJson(`${server?.url}/v1/sessions`, { headers: bearer(key) }).then((answer) => sessionListResponseSchema.parse(answer.body));
    expect((await listed(acmeKey)).sessions.map((session) => session.id)).toEqual([sessionId]);
    expect((await listed(globexKey)).sessions).toEqual([]);
    const stolen = await globex.chat.completions
      .create({ model: "default", messages: [{ role: "user", content: "Hi" }] }, { headers: { "x-lash-session-id": sessionId } })
      .catch((error: unknown) => error);
    expect(stolen).toMatchObject({ status: 404, code: "session_not_found" });
    const chat = await fetch(`${server.url}/v1/sessions/${sessionId}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(globexKey) },
      body: JSON.stringify({
        id: "c",
        messages: [{ id: "u", role: "user", parts: [{ type: "text", text: "Hi" }] }],
        trigger: "submit-message",
      }),
    });
    expect(chat.status).toBe(404);
    expect(((await chat.json()) as { error: { code: string } }).error.code).toBe("session_not_found");

    // A globex session is no acme session either, and no key at all is a 401.
    const globexSession = await createSessionAs(server, globexKey);
    const crossed = await acme.chat.completions
      .create({ model: "default", messages: [{ role: "user", content: "Hi" }] }, { headers: { "x-lash-session-id": globexSession } })
      .catch((error: unknown) => error);
    expect(crossed).toMatchObject({ status: 404 });
    const anonymous = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "lsk_not_a_key", maxRetries: 0 });
    const refused = await anonymous.chat.completions
      .create({ model: "default", messages: [{ role: "user", content: "Hi" }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
