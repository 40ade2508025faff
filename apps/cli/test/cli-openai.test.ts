import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { WireScript } from "@lash/testkit";
import { parseWireScript, startWireScriptServer } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { runLash, temporaryDirectory } from "./run-lash.js";

function sseTimeline(data: readonly unknown[]): WireScript["timeline"] {
  const timeline: WireScript["timeline"] = [
    { at: 0, event: "response_start", status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] },
  ];
  for (const value of data) timeline.push({ at: 0, event: "sse", data: JSON.stringify(value) });
  timeline.push({ at: 0, event: "sse", data: "[DONE]" }, { at: 0, event: "end" });
  return timeline;
}

/** The model lists the directory first: the request must carry the CLI's tools and the key. */
const listCall = parseWireScript(
  {
    schema: "lash.provider-wire-script.v1",
    name: "cli-list-directory",
    provider_kind: "openai-compatible",
    endpoint: { method: "POST", path: "/v1/chat/completions" },
    request_match: {
      body: { model: { equals: "local-model" }, stream: { equals: true }, messages: { contains_role: "user" } },
      headers: { authorization: { equals: "Bearer test-key" } },
    },
    timeline: sseTimeline([
      {
        choices: [
          {
            index: 0,
            delta: {
              role: "assistant",
              tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "list_directory", arguments: "{}" } }],
            },
          },
        ],
      },
      { choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
      { choices: [], usage: { prompt_tokens: 300, completion_tokens: 12 } },
    ]),
  },
  "cli-list-directory (inline)",
);

/** Then answers from the tool result it was sent. */
const answer = parseWireScript(
  {
    schema: "lash.provider-wire-script.v1",
    name: "cli-answer",
    provider_kind: "openai-compatible",
    endpoint: { method: "POST", path: "/v1/chat/completions" },
    request_match: { body: { messages: { contains_role: "tool" } } },
    timeline: sseTimeline([
      { choices: [{ index: 0, delta: { content: "There is one file: " } }] },
      { choices: [{ index: 0, delta: { content: "hello.txt." } }] },
      { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      { choices: [], usage: { prompt_tokens: 350, completion_tokens: 7 } },
    ]),
  },
  "cli-answer (inline)",
);

describe("lash run --provider openai against a loopback server", () => {
  it("streams a tool round trip over real HTTP and stores the usage", async () => {
    const home = await temporaryDirectory();
    const work = await temporaryDirectory();
    await writeFile(join(work, "hello.txt"), "hi\n");
    const server = await startWireScriptServer([listCall, answer], { timeScale: 0 });
    try {
      const result = await runLash(
        ["run", "--provider", "openai", "--base-url", `${server.baseUrl}/v1`, "--model", "local-model", "Which files are here?"],
        home,
        {
          cwd: work,
          env: { OPENAI_API_KEY: "test-key" },
        },
      );
      expect(server.mismatches).toEqual([]);
      expect(result.stderr).toContain("⚙ list_directory {}");
      expect(result.stdout).toBe("There is one file: hello.txt.\n");
      expect(result.stderr).toContain("2 model calls · tokens 650 in, 19 out");
      expect(result.code).toBe(0);
      // The tool result the model received is what the tool saw in the working directory.
      expect(JSON.stringify(server.requests[1]?.body)).toContain("hello.txt (3 bytes)");
      const usage = await runLash(["sessions", "usage", "--json", /new session ([0-9a-f-]{36})/.exec(result.stderr)?.[1] ?? ""], home);
      expect(JSON.parse(usage.stdout)).toMatchObject({
        rows: [{ source: "turn", model: "local-model", usage: { inputTokens: 650, outputTokens: 19 } }],
      });
    } finally {
      await server.close();
    }
  });

  it("without a key or a base URL it explains how to configure a provider (exit 2)", async () => {
    const home = await temporaryDirectory();
    const result = await runLash(["run", "--provider", "openai", "hello"], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("lash: error: the openai provider needs OPENAI_API_KEY");
    expect(result.stderr).toContain("--provider scripted --script <file.json>");
  });
});
