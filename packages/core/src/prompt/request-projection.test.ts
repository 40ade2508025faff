import type { AttachmentRef, LlmToolSpec, Message, MessagePart } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { type ProjectionInput, projectRequest } from "./request-projection.js";

const TOOL: LlmToolSpec = { name: "echo_tool", description: "Echo.", inputSchema: { type: "object" } };
const IMAGE: AttachmentRef = { id: "a".repeat(64), mediaType: "image/png", byteLength: 10 };
const IMAGE_2: AttachmentRef = { id: "b".repeat(64), mediaType: "image/jpeg", byteLength: 20 };

/** A message part without its id (distributed over the part kinds). */
type PartInput = MessagePart extends infer Part ? (Part extends MessagePart ? Omit<Part, "id"> : never) : never;

function message(role: Message["role"], ...parts: PartInput[]): Message {
  const id = `m-${Math.random().toString(16).slice(2)}`;
  return { id, role, parts: parts.map((part, index) => ({ ...part, id: `${id}.p${index}` }) as MessagePart) };
}

function project(messages: Message[], overrides: Partial<ProjectionInput> = {}) {
  return projectRequest({
    systemPrompt: "",
    messages,
    tools: [TOOL],
    useTools: true,
    model: "test-model",
    modelVariant: undefined,
    sessionId: "session-1",
    ...overrides,
  });
}

describe("projectRequest", () => {
  it("puts the system prompt first when it is not blank", () => {
    const { request } = project([message("user", { kind: "text", content: "hi" })], { systemPrompt: "You are helpful." });
    expect(request.messages).toEqual([
      { role: "system", blocks: [{ type: "text", text: "You are helpful." }] },
      { role: "user", blocks: [{ type: "text", text: "hi" }] },
    ]);
  });

  it("sends no system message for a blank system prompt", () => {
    const { request } = project([message("user", { kind: "text", content: "hi" })], { systemPrompt: "  \n " });
    expect(request.messages.map((entry) => entry.role)).toEqual(["user"]);
  });

  it("fills model, variant and session id, and starts with no attachments", () => {
    const { request } = project([message("user", { kind: "text", content: "hi" })], { modelVariant: "high" });
    expect(request).toMatchObject({ model: "test-model", modelVariant: "high", sessionId: "session-1", attachments: [] });
    expect("modelVariant" in project([]).request).toBe(false);
  });

  it("sends reasoning only when it carries replay data", () => {
    const { request } = project([
      message(
        "assistant",
        { kind: "reasoning", content: "display only" },
        { kind: "reasoning", content: "empty replay", replay: { redacted: false, summary: [] } },
        { kind: "reasoning", content: "with item", replay: { itemId: "rs_1", redacted: false, summary: [] } },
        { kind: "reasoning", content: "", replay: { encryptedContent: "enc", redacted: false, summary: [] } },
        { kind: "reasoning", content: "signed", replay: { signature: "sig", redacted: false, summary: [] } },
        { kind: "reasoning", content: "summarised", replay: { redacted: false, summary: ["s"] } },
        { kind: "prose", content: "Answer." },
      ),
    ]);
    expect(request.messages[0]?.blocks).toEqual([
      { type: "reasoning", text: "with item", replay: { itemId: "rs_1", redacted: false, summary: [] } },
      { type: "reasoning", text: "", replay: { encryptedContent: "enc", redacted: false, summary: [] } },
      { type: "reasoning", text: "signed", replay: { signature: "sig", redacted: false, summary: [] } },
      { type: "reasoning", text: "summarised", replay: { redacted: false, summary: ["s"] } },
      { type: "text", text: "Answer." },
    ]);
  });

  it("turns tool calls and tool results into blocks", () => {
    const { request } = project([
      message(
        "assistant",
        { kind: "prose", content: "Checking." },
        { kind: "tool_call", callId: "c1", toolName: "echo_tool", inputJson: '{"value":"x"}' },
        { kind: "tool_call", callId: "c2", toolName: "echo_tool", inputJson: "{not json", replay: { itemId: "fc_2", opaque: { a: 1 } } },
      ),
      message(
        "user",
        { kind: "tool_result", callId: "c1", toolName: "echo_tool", content: "raw:x" },
        { kind: "tool_result", callId: "c2", content: "[Tool execution failed]" },
      ),
    ]);
    expect(request.messages).toEqual([
      {
        role: "assistant",
        blocks: [
          { type: "text", text: "Checking." },
          { type: "tool_call", callId: "c1", toolName: "echo_tool", inputJson: '{"value":"x"}' },
          { type: "tool_call", callId: "c2", toolName: "echo_tool", inputJson: "{not json", replay: { itemId: "fc_2", opaque: { a: 1 } } },
        ],
      },
      {
        role: "user",
        blocks: [
          { type: "tool_result", callId: "c1", content: "raw:x", toolName: "echo_tool" },
          { type: "tool_result", callId: "c2", content: "[Tool execution failed]" },
        ],
      },
    ]);
  });

  it("turns user images into image blocks and collects their attachment refs in order", () => {
    const { request, attachmentRefs } = project([
      message(
        "user",
        { kind: "image", attachment: IMAGE },
        { kind: "text", content: "compare with" },
        { kind: "image", attachment: IMAGE_2 },
      ),
    ]);
    expect(request.messages[0]?.blocks).toEqual([
      { type: "image", attachmentIndex: 0 },
      { type: "text", text: "compare with" },
      { type: "image", attachmentIndex: 1 },
    ]);
    expect(attachmentRefs).toEqual([IMAGE, IMAGE_2]);
    expect(request.attachments).toEqual([]);
  });

  it("numbers attachments across messages", () => {
    const { request, attachmentRefs } = project([
      message("user", { kind: "image", attachment: IMAGE }),
      message("assistant", { kind: "prose", content: "nice" }),
      message("user", { kind: "image", attachment: IMAGE_2 }),
    ]);
    expect(request.messages[2]?.blocks).toEqual([{ type: "image", attachmentIndex: 1 }]);
    expect(attachmentRefs).toEqual([IMAGE, IMAGE_2]);
  });

  it('prefixes system text with "Runtime note:\\n"', () => {
    const { request } = project([message("system", { kind: "text", content: "The user switched models." })]);
    expect(request.messages).toEqual([{ role: "system", blocks: [{ type: "text", text: "Runtime note:\nThe user switched models." }] }]);
  });

  it("wraps system output and error parts in tags", () => {
    const { request } = project([
      message("system", { kind: "output", content: "42" }, { kind: "error", content: "Turn limit reached (3)." }),
    ]);
    expect(request.messages[0]?.blocks).toEqual([
      { type: "text", text: "<output>\n42\n</output>" },
      { type: "text", text: "<error>\nTurn limit reached (3).\n</error>" },
    ]);
  });

  it("keeps user and assistant text as is", () => {
    const { request } = project([
      message("user", { kind: "text", content: "  spaced  " }),
      message("assistant", { kind: "prose", content: "reply" }),
    ]);
    expect(request.messages).toEqual([
      { role: "user", blocks: [{ type: "text", text: "  spaced  " }] },
      { role: "assistant", blocks: [{ type: "text", text: "reply" }] },
    ]);
  });

  it("keeps a prose part's provider metadata", () => {
    const { request } = project([
      message("assistant", { kind: "prose", content: "final", responseMeta: { id: "msg_1", phase: "final_answer" } }),
    ]);
    expect(request.messages[0]?.blocks).toEqual([{ type: "text", text: "final", responseMeta: { id: "msg_1", phase: "final_answer" } }]);
  });

  it("skips blank text and drops messages left with no blocks", () => {
    const { request } = project([
      message("user", { kind: "text", content: "" }),
      message("assistant", { kind: "prose", content: "  \n" }, { kind: "reasoning", content: "display only" }),
      message("system", { kind: "output", content: " " }),
      message("user", { kind: "text", content: "  " }, { kind: "text", content: "real" }),
    ]);
    expect(request.messages).toEqual([{ role: "user", blocks: [{ type: "text", text: "real" }] }]);
  });

  it('offers the tools with toolChoice "auto" only when the mode uses tools and there are some', () => {
    const withTools = project([]).request;
    expect(withTools.tools).toEqual([TOOL]);
    expect(withTools.toolChoice).toBe("auto");

    const noTools = project([], { tools: [] }).request;
    expect(noTools.tools).toEqual([]);
    expect(noTools.toolChoice).not.toBe("auto");

    const toolsOff = project([], { useTools: false }).request;
    expect(toolsOff.tools).toEqual([]);
    expect(toolsOff.toolChoice).not.toBe("auto");
  });

  it("does not share the caller's tool list", () => {
    const tools = [TOOL];
    const { request } = project([], { tools });
    tools.push({ ...TOOL, name: "late" });
    expect(request.tools).toHaveLength(1);
  });
});
