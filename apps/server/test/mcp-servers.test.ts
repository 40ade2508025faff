import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { resolveServerConfig } from "../src/config/resolve-server-config.js";
import { profileFromSpec } from "../src/profiles/profile-from-spec.js";
import { requestJson, startTestServer, type TestServer } from "./server-harness.js";

/** The MCP package's test server (a real MCP server over stdio). */
const TEST_MCP_SERVER = fileURLToPath(new URL("../../../packages/mcp/test/fixtures/test-mcp-server.mjs", import.meta.url));

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("a profile's MCP servers", () => {
  it("gives the profile's sessions the server's tools over HTTP, keeps their images in the store, and stops the server with the server", async () => {
    const directory = await mkdtemp(join(tmpdir(), "lash-server-mcp-"));
    const script = join(directory, "script.json");
    const log = join(directory, "mcp.log");
    await writeFile(
      script,
      JSON.stringify({
        format: "lash.scripted-conversation.v1",
        steps: [
          {
            toolCalls: [
              { name: "tools__echo", args: { text: "from the server" } },
              { name: "tools__picture", args: {} },
            ],
          },
          { text: "It echoed." },
        ],
      }),
    );
    await writeFile(
      join(directory, "server.json"),
      JSON.stringify({
        profiles: {
          default: { script, mcpServers: { tools: { command: process.execPath, args: [TEST_MCP_SERVER], env: { MCP_TEST_LOG: log } } } },
        },
      }),
    );
    const config = await resolveServerConfig({ config: join(directory, "server.json") }, { LASH_HOME: directory }, directory);
    const spec = config.profiles.default;
    if (spec === undefined) throw new Error("no default profile");
    const { provider, ...profile } = await profileFromSpec("default", spec, directory);
    expect(profile.close).toBeTypeOf("function");
    server = await startTestServer({ provider, profile });
    const session = await requestJson(`${server.url}/v1/sessions`, { body: {} });
    const id = (session.body as { id: string }).id;
    const turn = await requestJson(`${server.url}/v1/sessions/${id}/turns`, { body: { input: "echo something" } });
    expect(turn.status).toBe(200);
    expect(turn.body).toMatchObject({
      answer: { text: "It echoed." },
      toolCalls: [
        { tool: "tools__echo", output: { outcome: { status: "success", payload: "echo: from the server" } } },
        { tool: "tools__picture", output: { outcome: { status: "success" } } },
      ],
    });
    // The tool's image went to the store's attachments.
    const picture = (turn.body as { toolCalls: { output: { outcome: { payload: { content: { attachmentId?: string }[] } } } }[] })
      .toolCalls[1];
    const attachmentId = picture?.output.outcome.payload.content[1]?.attachmentId ?? "";
    expect(await server.store.factory.attachments?.get(attachmentId)).toBeInstanceOf(Uint8Array);
    const pid = Number(/started (\d+)/.exec(await readFile(log, "utf8"))?.[1]);
    expect(processIsAlive(pid)).toBe(true);
    await server.stop();
    server = undefined;
    // The stdio server's process ends with the lash server.
    for (let attempt = 0; attempt < 100 && processIsAlive(pid); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(processIsAlive(pid)).toBe(false);
  });
});

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
