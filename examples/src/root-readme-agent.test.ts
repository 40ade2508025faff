import { once } from "node:events";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSnippet, snippetAfter } from "./readme-snippet-runner.js";

interface ChatRequestBody {
  readonly model?: string;
  readonly stream?: boolean;
  readonly messages: readonly { readonly role: string; readonly content?: unknown; readonly tool_call_id?: string }[];
  readonly tools?: readonly { readonly function: { readonly name: string } }[];
}

/** One Chat Completions stream chunk, as an OpenAI-compatible server sends it. */
function chunk(delta: object, finishReason: string | null = null, usage?: object): string {
  const body = {
    id: "chatcmpl-readme",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-5-mini",
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
  return `data: ${JSON.stringify(usage === undefined ? body : { ...body, usage })}\n\n`;
}

const usage = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

/**
 * The model's side of the conversation: the first call asks for the weather tool, the calls after
 * a tool result answer in three text pieces. Every call is recorded.
 */
function answer(body: ChatRequestBody): string[] {
  const last = body.messages.at(-1);
  if (last?.role === "user") {
    return [
      chunk({
        role: "assistant",
        tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "weather", arguments: "" } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Lis' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'bon"}' } }] }),
      chunk({}, "tool_calls", usage(120, 18)),
      "data: [DONE]\n\n",
    ];
  }
  return [
    chunk({ role: "assistant", content: "It is sunny " }),
    chunk({ content: "in Lisbon, " }),
    chunk({ content: "21 °C." }),
    chunk({}, "stop", usage(160, 12)),
    "data: [DONE]\n\n",
  ];
}

async function readBody(request: IncomingMessage): Promise<string> {
  let text = "";
  for await (const piece of request) text += String(piece);
  return text;
}

describe("the root README's first code block", () => {
  const requests: ChatRequestBody[] = [];
  let server: Server;
  let baseURL: string;

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      void readBody(request).then((text) => {
        if (request.url !== "/v1/chat/completions" || request.headers.authorization !== "Bearer sk-readme") {
          response.writeHead(404).end();
          return;
        }
        const body = JSON.parse(text) as ChatRequestBody;
        requests.push(body);
        response.writeHead(200, { "content-type": "text/event-stream" });
        for (const piece of answer(body)) response.write(piece);
        response.end();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });

  afterAll(() => {
    server.close();
  });

  // Child processes that load TypeScript through tsx: generous on a loaded machine (no time is asserted).
  it("is an agent of at most 15 lines: one tool, streamed with for await, stored in SQLite, ending with a typed result; run again, it goes on", {
    timeout: 180_000,
  }, async () => {
    const code = await snippetAfter("README.md", "# lash for TypeScript");
    expect(code.trimEnd().split("\n").length).toBeLessThanOrEqual(15);
    const env = { OPENAI_API_KEY: "sk-readme", OPENAI_BASE_URL: baseURL };

    const first = await runSnippet(code, { env });
    expect(first.stdout).toBe("It is sunny in Lisbon, 21 °C.\nfinished · 280 in, 30 out\n");
    expect(requests).toHaveLength(2);
    const [toolCall, afterTool] = requests;
    expect(toolCall).toMatchObject({ model: "gpt-5-mini", stream: true });
    // The standard mode adds its own `batch` tool beside the agent's.
    expect(toolCall?.tools?.map((tool) => tool.function.name)).toContain("weather");
    const toolMessage = afterTool?.messages.find((message) => message.role === "tool");
    expect(toolMessage?.tool_call_id).toBe("call_1");
    expect(JSON.stringify(toolMessage?.content)).toContain("sunny");
    expect((await stat(join(first.workingDirectory, "agent.db"))).size).toBeGreaterThan(0);

    // The same file run again in the same folder loads the stored session: the model sees the first turn.
    const second = await runSnippet(code, { env, workingDirectory: first.workingDirectory });
    expect(second.stdout).toContain("finished");
    const resumed = requests[2];
    const userTexts = resumed?.messages.filter((message) => message.role === "user").map((message) => JSON.stringify(message.content));
    expect(userTexts).toHaveLength(2);
    expect(JSON.stringify(resumed?.messages)).toContain("It is sunny in Lisbon, 21 °C.");
  });
});
