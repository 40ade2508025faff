import type { AttachmentStore, LlmRequest, ToolCallOutput, TurnActivity } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { endsWithToolResults, WindowedModel } from "../../test/context-models.js";
import {
  defineTool,
  InMemoryAttachmentStore,
  InMemorySessionStore,
  LashRuntime,
  READ_TOOL_OUTPUT_NAME,
  type ToolOutputBudgetOptions,
} from "../index.js";

const LINES = Array.from({ length: 5_000 }, (_, index) => `line ${index} ${"data ".repeat(3)}`);
const LISTING = LINES.join("\n");

const listTool = defineTool({ name: "list", description: "Lists everything.", inputSchema: { type: "object" }, execute: () => LISTING });

/** The tool results of a request, in order. */
function results(request: LlmRequest | undefined): string[] {
  return (request?.messages ?? []).flatMap((message) =>
    message.blocks.flatMap((block) => (block.type === "tool_result" ? [block.content] : [])),
  );
}

const READ_CALL = /read_tool_output\((\{[^)]*\})\)/;

/**
 * A model that calls `list`, then pages through the cut output with `read_tool_output` as its marker
 * says (`pages` times), then answers.
 */
function pagingModel(pages: number, unit: "lines" | "bytes" = "lines"): WindowedModel {
  let read = 0;
  return new WindowedModel(1_000_000, (request, call) => {
    if (!endsWithToolResults(request)) {
      return { parts: [{ type: "tool_call", callId: `call-${call}`, toolName: "list", inputJson: "{}" }] };
    }
    const last = results(request).at(-1) ?? "";
    const next = READ_CALL.exec(last);
    if (read < pages && next?.[1]) {
      read += 1;
      const args = JSON.parse(next[1]) as Record<string, unknown>;
      if (unit === "bytes" && read === 1) Object.assign(args, { unit: "bytes", offset: 0, limit: 40 });
      return { parts: [{ type: "tool_call", callId: `call-${call}`, toolName: READ_TOOL_OUTPUT_NAME, inputJson: JSON.stringify(args) }] };
    }
    return { fullText: "Done." };
  });
}

async function runtimeWith(
  model: WindowedModel,
  options: { budget?: ToolOutputBudgetOptions | false; attachments?: AttachmentStore; tools?: Parameters<typeof defineTool>[0][] } = {},
) {
  let builder = LashRuntime.builder()
    .withProvider(model)
    .withTools([listTool, ...(options.tools ?? []).map((tool) => defineTool(tool))])
    .withStore(new InMemorySessionStore({ sessionId: "budget" }));
  if (options.budget !== undefined) builder = builder.withToolOutputBudget(options.budget);
  if (options.attachments) builder = builder.withAttachmentStore(options.attachments);
  return builder.build();
}

/** An attachment store that refuses every `put` (as a store that keeps only images does with text). */
function refusingStore(): AttachmentStore {
  const inner = new InMemoryAttachmentStore();
  return new Proxy(inner, {
    get(target, key) {
      if (key === "put") return async () => Promise.reject(new Error("only images are stored here"));
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("the tool-output budget", () => {
  it("cuts a long result to head and tail with a marker, keeps the record whole, and read_tool_output pages through the rest", async () => {
    const model = pagingModel(2);
    const attachments = new InMemoryAttachmentStore();
    const runtime = await runtimeWith(model, { attachments });
    const activities: TurnActivity[] = [];
    const turn = await runtime.runTurn("List everything.", { activities: { emit: (activity) => void activities.push(activity) } });
    expect(turn.outcome.type).toBe("finished");

    const cut = results(model.requests[1])[0] ?? "";
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(50_000);
    expect(cut.split("\n").length).toBeLessThanOrEqual(2_000);
    expect(cut.startsWith(`${LINES[0]}\n${LINES[1]}\n`)).toBe(true);
    expect(cut.endsWith(LINES.at(-1) as string)).toBe(true);
    expect(cut).toMatch(
      /\[\.\.\. output cut: \d+ of 5000 lines \(\d+ of \d+ bytes\) not shown here\. Read the rest with read_tool_output\(/,
    );
    // The full output is a text attachment, named in the marker by a reference `gc` finds.
    const stored = /"id":"lash-attachment:([0-9a-f]{64})"/.exec(cut)?.[1];
    expect(stored).toBeDefined();
    expect(new TextDecoder().decode(await attachments.get(stored ?? ""))).toBe(LISTING);
    expect(await attachments.stat(stored ?? "")).toMatchObject({ mediaType: "text/plain; charset=utf-8" });
    const offset = Number(/"offset":(\d+)/.exec(cut)?.[1]);
    expect(cut.split("\n")[offset]).toMatch(/^\[\.\.\. output cut/);

    // The first page starts where the excerpt's head stopped; the next page goes on from there.
    const firstPage = results(model.requests[2]).at(-1) ?? "";
    expect(firstPage.split("\n")[0]).toBe(
      `[lines ${offset}-${offset + 499}; next page: read_tool_output({"id":${JSON.stringify(/"id":"([^"]+)"/.exec(cut)?.[1])},"offset":${offset + 500}})]`,
    );
    expect(firstPage.split("\n").slice(1, 501)).toEqual(LINES.slice(offset, offset + 500));
    const secondPage = results(model.requests[3]).at(-1) ?? "";
    expect(secondPage.split("\n").slice(1, 3)).toEqual(LINES.slice(offset + 500, offset + 502));

    // Hosts see the tool's own output.
    const completed = activities.find((activity) => activity.type === "tool_call_completed" && activity.name === "list");
    expect((completed as { output: ToolCallOutput } | undefined)?.output).toEqual({ outcome: { status: "success", payload: LISTING } });
  });

  it("pages by bytes", async () => {
    const model = pagingModel(1, "bytes");
    await (await runtimeWith(model)).runTurn("List everything.");
    const page = results(model.requests[2]).at(-1) ?? "";
    expect(page.split("\n")[0]).toMatch(
      /^\[bytes 0-39 of \d+; next page: read_tool_output\(\{"id":"[^"]+","offset":40,"unit":"bytes"\}\)\]$/,
    );
    expect(page.slice(page.indexOf("\n") + 1)).toBe(LISTING.slice(0, 40));
  });

  it("keeps the full output in the session when the attachment store refuses it", async () => {
    const model = pagingModel(1);
    await (await runtimeWith(model, { attachments: refusingStore() })).runTurn("List everything.");
    const cut = results(model.requests[1])[0] ?? "";
    expect(cut).toContain('read_tool_output({"id":"call:call-1","offset":');
    const page = results(model.requests[2]).at(-1) ?? "";
    const offset = Number(/"offset":(\d+)/.exec(cut)?.[1]);
    expect(page.split("\n")[1]).toBe(LINES[offset]);
  });

  it("takes per-tool limits from the runtime and from defineTool, and exempts a tool", async () => {
    const model = new WindowedModel(1_000_000, (request, call) =>
      endsWithToolResults(request)
        ? { fullText: "Done." }
        : {
            parts: ["list", "short", "free"].map((toolName, index) => ({
              type: "tool_call" as const,
              callId: `call-${call}-${index}`,
              toolName,
              inputJson: "{}",
            })),
          },
    );
    const runtime = await runtimeWith(model, {
      budget: { tools: { list: { maxLines: 10 } } },
      tools: [
        {
          name: "short",
          description: "Short budget.",
          inputSchema: { type: "object" },
          outputBudget: { maxBytes: 2_000 },
          execute: () => LISTING,
        },
        { name: "free", description: "No budget.", inputSchema: { type: "object" }, outputBudget: false, execute: () => LISTING },
      ],
    });
    await runtime.runTurn("Everything.");
    const [list, short, free] = results(model.requests[1]);
    expect(list?.split("\n").length).toBeLessThanOrEqual(11);
    expect(Buffer.byteLength(short ?? "")).toBeLessThanOrEqual(2_400);
    expect(free).toBe(LISTING);
  });

  it("switched off: results go to the model whole and read_tool_output is not offered", async () => {
    const model = new WindowedModel(1_000_000, (request, call) =>
      endsWithToolResults(request)
        ? { fullText: "Done." }
        : { parts: [{ type: "tool_call", callId: `call-${call}`, toolName: "list", inputJson: "{}" }] },
    );
    const runtime = await runtimeWith(model, { budget: false });
    await runtime.runTurn("List everything.");
    expect(results(model.requests[1])[0]).toBe(LISTING);
    expect(model.requests[0]?.tools.map((tool) => tool.name)).not.toContain(READ_TOOL_OUTPUT_NAME);
  });

  it("refuses a budget that cannot work", () => {
    expect(() => LashRuntime.builder().withToolOutputBudget({ maxBytes: 0 })).toThrow(/maxBytes must be a positive integer/);
    expect(() =>
      defineTool({ name: "t", description: "t", inputSchema: { type: "object" }, outputBudget: { maxLines: -1 }, execute: () => "" }),
    ).toThrow(/maxLines must be a positive integer/);
  });
});
