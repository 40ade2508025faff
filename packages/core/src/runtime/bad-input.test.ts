import type {
  EventSink,
  JsonValue,
  LlmRequest,
  ModelProvider,
  SessionEvent,
  ToolCallOutcome,
  ToolDefinition,
  TurnActivity,
  TurnActivitySink,
  TurnInput,
} from "@lash/protocol";
import { MODEL_PROVIDER_SPECIFICATION_VERSION } from "@lash/protocol";
import { type ScriptedEvent, type ScriptedStep, textStep, toolCallStep, usage } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { countingTool, createRuntime, echoTool, MODEL, messageTexts, RecordingSink } from "../../test/fixtures.js";
import { InMemorySessionStore, LashRuntime, textInput, withImage } from "../index.js";

const ascii = (text: string): number[] => [...text].map((character) => character.charCodeAt(0));

const IMAGES = {
  png: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]),
  jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...ascii("JFIF")]),
  gif: new Uint8Array([...ascii("GIF89a"), 0x01, 0x00, 0x01, 0x00]),
  webp: new Uint8Array([...ascii("RIFF"), 0x24, 0x00, 0x00, 0x00, ...ascii("WEBP"), ...ascii("VP8 ")]),
};

/** The tool-result blocks a request carried, by call id. */
function toolResultBlocks(request: LlmRequest | undefined): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const message of request?.messages ?? []) {
    for (const block of message.blocks) if (block.type === "tool_result") blocks.set(block.callId, block.content);
  }
  return blocks;
}

function failureOf(outcome: ToolCallOutcome | undefined): { code: string; message: string } {
  if (outcome?.status !== "failure") throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return { code: outcome.payload.code, message: outcome.payload.message };
}

describe("invalid turn input", () => {
  const cases: readonly { readonly name: string; readonly input: TurnInput; readonly message: string | RegExp }[] = [
    {
      name: "an image_ref with an empty id",
      input: { items: [{ type: "image_ref", id: "" }] },
      message: "Invalid image_ref: id cannot be empty",
    },
    {
      name: "an image_ref without its blob",
      input: { items: [{ type: "image_ref", id: "x" }] },
      message: "Invalid image_ref: missing blob for id 'x'",
    },
    {
      name: "a blob that is not an image",
      input: withImage(textInput("look"), "x", new Uint8Array(ascii("just some text, not an image"))),
      message: /Invalid image_ref: .*'x'.*(PNG|image)/,
    },
    { name: "items that are not an array", input: { items: "hello" } as unknown as TurnInput, message: /items must be an array/ },
    {
      name: "an item of an unknown type",
      input: { items: [{ type: "audio", data: "..." }] } as unknown as TurnInput,
      message: /unknown type "audio"/,
    },
    {
      name: "a text item whose text is not a string",
      input: { items: [{ type: "text", text: 42 }] } as unknown as TurnInput,
      message: /text must be a string/,
    },
    { name: "an item that is null", input: { items: [null] } as unknown as TurnInput, message: /Invalid input item 0/ },
    { name: "an input that is null", input: null as unknown as TurnInput, message: /expected an object/ },
    { name: "an input that is a number", input: 42 as unknown as TurnInput, message: /expected an object/ },
  ];

  it.each(cases)("$name: stops invalid_input, records the issue, commits nothing and calls no model", async ({ input, message }) => {
    const store = new InMemorySessionStore();
    const { runtime, provider } = await createRuntime({ store, steps: [textStep("first answer"), textStep("never used")] });
    await runtime.runTurn(textInput("first"));
    const commitsBefore = store.commitCount;
    const stateBefore = runtime.exportState();
    expect(stateBefore.turnIndex).toBe(1);

    const turn = await runtime.runTurn(input);

    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "invalid_input" } });
    expect(turn.errors).toHaveLength(1);
    expect(turn.errors[0]).toMatchObject({ kind: "input_validation", code: "invalid_turn_input" });
    if (typeof message === "string") expect(turn.errors[0]?.message).toBe(message);
    else expect(turn.errors[0]?.message).toMatch(message);
    expect(turn.state.turnIndex).toBe(1);
    expect(runtime.exportState().turnIndex).toBe(1);
    expect(runtime.exportState().sessionGraph).toEqual(stateBefore.sessionGraph);
    expect(store.commitCount).toBe(commitsBefore);
    expect(provider.callCount).toBe(1);
    expect(messageTexts(runtime, "user")).toEqual(["first"]);
  });

  it("commits nothing for invalid input on a fresh session either", async () => {
    const store = new InMemorySessionStore();
    const { runtime, provider } = await createRuntime({ store, steps: [textStep("never used")] });
    const turn = await runtime.runTurn({ items: [{ type: "image_ref", id: "" }] });
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "invalid_input" } });
    expect(store.commitCount).toBe(0);
    expect(await store.loadSession({ type: "full_graph" })).toBeUndefined();
    expect(provider.callCount).toBe(0);
  });
});

describe("image media types", () => {
  it.each([
    ["png", "image/png"],
    ["jpeg", "image/jpeg"],
    ["gif", "image/gif"],
    ["webp", "image/webp"],
  ] as const)("a %s image reaches the request's attachments as %s", async (kind, mediaType) => {
    const { runtime, provider } = await createRuntime({ steps: [textStep("nice picture")] });
    const bytes = IMAGES[kind];
    const turn = await runtime.runTurn(withImage(textInput("what is this?"), `img-${kind}`, bytes));
    expect(turn.outcome.type).toBe("finished");
    const request = provider.requests[0];
    expect(request?.attachments).toHaveLength(1);
    expect(request?.attachments[0]?.mediaType).toBe(mediaType);
    expect([...(request?.attachments[0]?.data ?? [])]).toEqual([...bytes]);
    const user = request?.messages.find((message) => message.role === "user");
    expect(user?.blocks).toContainEqual({ type: "image", attachmentIndex: 0 });
    // The stored message keeps the detected type too.
    const imagePart = runtime
      .activeMessages()
      .flatMap((message) => message.parts)
      .find((part) => part.kind === "image");
    expect(imagePart && "attachment" in imagePart ? imagePart.attachment.mediaType : undefined).toBe(mediaType);
  });
});

describe("malformed tool calls", () => {
  it("reports arguments that are not valid JSON without running the tool, and the turn continues", async () => {
    const { tool, executions } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "bad-1", name: "count_tool", args: "{not json" }]), textStep("recovered")],
      tools: [tool],
    });
    const turn = await runtime.runTurn(textInput("call it"));
    expect(executions).toEqual([]);
    const failure = failureOf(turn.toolCalls[0]?.output.outcome);
    expect(failure.code).toBe("invalid_tool_args");
    expect(failure.message).toMatch(/not valid JSON/);
    expect(turn.toolCalls[0]?.args).toBe("{not json");
    expect(turn.toolCalls[0]?.durationMs).toBe(0);
    const seen = toolResultBlocks(provider.requests[1]).get("bad-1");
    expect(seen).toBe(`[Tool execution failed]\n${failure.message}`);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "recovered" } });
    expect(provider.callCount).toBe(2);
  });

  it.each(["", "   "])("treats blank arguments %j as {}", async (inputJson) => {
    const { tool, executions } = countingTool();
    const { runtime } = await createRuntime({
      steps: [toolCallStep([{ callId: "blank-1", name: "count_tool", args: inputJson }]), textStep("done")],
      tools: [tool],
    });
    const turn = await runtime.runTurn(textInput("call it"));
    expect(executions).toEqual([{}]);
    expect(turn.toolCalls[0]?.args).toEqual({});
    expect(turn.toolCalls[0]?.output.outcome.status).toBe("success");
  });

  it("reports schema-invalid arguments with the path, without running the tool", async () => {
    let executions = 0;
    const strict: ToolDefinition<{ value: string }> = {
      ...echoTool,
      execute: (input) => {
        executions += 1;
        return { payload: input.value };
      },
    };
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "typed-1", name: "echo_tool", args: { value: 42 } }]), textStep("recovered")],
      tools: [strict],
    });
    const turn = await runtime.runTurn(textInput("call it"));
    expect(executions).toBe(0);
    const failure = failureOf(turn.toolCalls[0]?.output.outcome);
    expect(failure.code).toBe("invalid_tool_args");
    expect(failure.message).toContain("$.value");
    expect(toolResultBlocks(provider.requests[1]).get("typed-1")).toBe(`[Tool execution failed]\n${failure.message}`);
    expect(turn.outcome.type).toBe("finished");
  });

  it("reports an unknown tool as tool_unavailable without executing anything", async () => {
    const { tool, executions } = countingTool();
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "ghost-1", name: "no_such_tool", args: {} }]), textStep("recovered")],
      tools: [tool],
    });
    const turn = await runtime.runTurn(textInput("call it"));
    expect(executions).toEqual([]);
    const failure = failureOf(turn.toolCalls[0]?.output.outcome);
    expect(failure.code).toBe("tool_unavailable");
    expect(turn.toolCalls[0]?.durationMs).toBe(0);
    expect(toolResultBlocks(provider.requests[1]).get("ghost-1")).toBe(`[Tool execution failed]\n${failure.message}`);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "recovered" } });
  });

  it("turns a plain Error thrown by a tool into tool_execution_failed, and the turn continues", async () => {
    const throwing: ToolDefinition<JsonValue> = {
      name: "throwing_tool",
      description: "Throws.",
      inputSchema: { type: "object" },
      execute: () => {
        throw new Error("disk on fire");
      },
    };
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "t1", name: "throwing_tool", args: {} }]), textStep("recovered")],
      tools: [throwing],
    });
    const turn = await runtime.runTurn(textInput("call it"));
    expect(failureOf(turn.toolCalls[0]?.output.outcome)).toEqual({ code: "tool_execution_failed", message: "disk on fire" });
    expect(toolResultBlocks(provider.requests[1]).get("t1")).toBe("[Tool execution failed]\ndisk on fire");
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "recovered" } });
    expect(turn.errors).toEqual([]);
  });

  it("turns a rejected promise from a tool into tool_execution_failed", async () => {
    const rejecting: ToolDefinition<JsonValue> = {
      name: "rejecting_tool",
      description: "Rejects.",
      inputSchema: { type: "object" },
      execute: async () => {
        throw new Error("async failure");
      },
    };
    const { runtime } = await createRuntime({
      steps: [toolCallStep([{ callId: "r1", name: "rejecting_tool", args: {} }]), textStep("recovered")],
      tools: [rejecting],
    });
    const turn = await runtime.runTurn(textInput("call it"));
    expect(failureOf(turn.toolCalls[0]?.output.outcome)).toEqual({ code: "tool_execution_failed", message: "async failure" });
    expect(turn.outcome.type).toBe("finished");
  });

  const cycle: Record<string, unknown> = { name: "loop" };
  cycle.self = cycle;
  it.each([
    ["a Date", () => new Date(0)],
    ["a function", () => () => "hi"],
    ["NaN", () => Number.NaN],
    ["Infinity", () => Number.POSITIVE_INFINITY],
    ["a cycle", () => cycle],
    ["a Date nested in an object", () => ({ when: new Date(0) })],
    ["a BigInt", () => BigInt(1)],
    ["a Map", () => new Map([["a", 1]])],
  ])("turns a tool returning %s into invalid_tool_output", async (_name, produce) => {
    const weird: ToolDefinition<JsonValue> = {
      name: "weird_tool",
      description: "Returns something that is not JSON.",
      inputSchema: { type: "object" },
      execute: () => produce() as unknown as JsonValue,
    };
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "w1", name: "weird_tool", args: {} }]), textStep("recovered")],
      tools: [weird],
    });
    const turn = await runtime.runTurn(textInput("call it"));
    expect(failureOf(turn.toolCalls[0]?.output.outcome).code).toBe("invalid_tool_output");
    expect(toolResultBlocks(provider.requests[1]).get("w1")).toMatch(/^\[Tool execution failed\]\n/);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "recovered" } });
  });
});

describe("misbehaving providers", () => {
  it("stops provider_error when the provider throws a plain Error, with the message in an issue", async () => {
    const { runtime, provider } = await createRuntime({ steps: [{ error: new Error("socket hang up") }] });
    const turn = await runtime.runTurn(textInput("hello"));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(turn.errors.some((issue) => issue.kind === "llm_provider" && issue.message.includes("socket hang up"))).toBe(true);
    expect(provider.callCount).toBe(1);
  });

  it("stops provider_error when a hand-written provider throws a non-error value", async () => {
    const odd: ModelProvider = {
      specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
      providerId: "odd",
      defaultModel: MODEL,
      doComplete: () => Promise.reject("a bare string"),
    };
    const runtime = await LashRuntime.builder().withPolicy({ model: MODEL, maxContextTokens: 200_000 }).withProvider(odd).build();
    const turn = await runtime.runTurn(textInput("hello"));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(turn.errors.some((issue) => issue.message.includes("a bare string"))).toBe(true);
  });

  const garbage: readonly { readonly name: string; readonly step: ScriptedStep; readonly problem: string | RegExp }[] = [
    {
      name: "a delta whose text is a number",
      step: { events: [{ type: "delta", text: 42 } as unknown as ScriptedEvent], response: { fullText: "never" } },
      problem: "text of a delta event is not a string",
    },
    {
      name: "an event of an unknown type",
      step: {
        events: [{ type: "delta", text: "fine so far" }, { type: "bogus" } as unknown as ScriptedEvent],
        response: { fullText: "never" },
      },
      problem: 'unknown event type "bogus"',
    },
    {
      name: "a response with a text part without text",
      step: { response: { parts: [{ type: "text" } as never] } },
      problem: /parts\.0\.text/,
    },
  ];

  describe.each(["complete", "stream"] as const)("in %s mode", (mode) => {
    it.each(garbage)("stops provider_error on $name, names the problem and does not retry", async ({ step, problem }) => {
      const { runtime, provider } = await createRuntime({ steps: [step, textStep("a retry would get this")], providerOptions: { mode } });
      const turn = await runtime.runTurn(textInput("hello"));
      expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
      const messages = turn.errors.map((issue) => issue.message);
      if (typeof problem === "string") expect(messages.some((message) => message.includes(problem))).toBe(true);
      else expect(messages.some((message) => problem.test(message))).toBe(true);
      expect(turn.errors[0]).toMatchObject({ kind: "llm_provider" });
      expect(provider.callCount).toBe(1);
      expect(provider.remainingSteps).toBe(1);
    });
  });

  it("surfaces an UnexpectedModelCallError from an exhausted script as provider_error", async () => {
    const { runtime, provider } = await createRuntime({
      steps: [toolCallStep([{ callId: "e1", name: "echo_tool", args: { value: "x" } }])],
      tools: [echoTool],
    });
    const turn = await runtime.runTurn(textInput("hello"));
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    expect(provider.unexpectedCalls).toHaveLength(1);
    expect(turn.errors.some((issue) => issue.message.includes("unexpected model call #2"))).toBe(true);
    // The tool round before the failure is kept.
    expect(turn.toolCalls.map((record) => record.output.outcome.status)).toEqual(["success"]);
  });
});

describe("sinks that throw", () => {
  const sinkError = new Error("the sink broke");

  const cases: readonly {
    readonly name: string;
    readonly events?: (error: Error) => EventSink;
    readonly activities?: (error: Error) => TurnActivitySink;
  }[] = [
    {
      name: "an event sink throwing on llm_request",
      events: (error) => ({
        emit: (event: SessionEvent) => {
          if (event.type === "model_request_started") throw error;
        },
      }),
    },
    {
      name: "an event sink throwing on a streamed text_delta",
      events: (error) => ({
        emit: (event: SessionEvent) => {
          if (event.type === "text_delta") throw error;
        },
      }),
    },
    {
      name: "an activity sink rejecting asynchronously on usage",
      activities: (error) => ({
        emit: (activity: TurnActivity) => (activity.type === "usage" ? Promise.reject(error) : undefined),
      }),
    },
    {
      name: "an activity sink throwing on tool_call_completed",
      activities: (error) => ({
        emit: (activity: TurnActivity) => {
          if (activity.type === "tool_call_completed") throw error;
        },
      }),
    },
    {
      name: "an event sink throwing on done",
      events: (error) => ({
        emit: (event: SessionEvent) => {
          if (event.type === "done") throw error;
        },
      }),
    },
  ];

  it.each(cases)("$name makes streamTurn reject with that very error", async ({ events, activities }) => {
    const { runtime } = await createRuntime({
      steps: [
        toolCallStep([{ callId: "e1", name: "echo_tool", args: { value: "x" } }], { text: "Checking.", usage: usage(3, 1) }),
        textStep("done", { usage: usage(4, 1) }),
      ],
      tools: [echoTool],
    });
    const options = { ...(events ? { events: events(sinkError) } : {}), ...(activities ? { activities: activities(sinkError) } : {}) };
    const rejection = await runtime.streamTurn(textInput("hello"), options).then(
      () => "resolved",
      (error: unknown) => error,
    );
    expect(rejection).toBe(sinkError);
  });

  it("aborts the turn's in-flight tools when a sink failure ends the turn", async () => {
    let seenSignal: AbortSignal | undefined;
    let markStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const lingering: ToolDefinition<JsonValue> = {
      name: "lingering_tool",
      description: "Runs until its signal aborts.",
      inputSchema: { type: "object" },
      execute: (_input, context) => {
        seenSignal = context.signal;
        markStarted();
        return new Promise<JsonValue>((_resolve, reject) =>
          context.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }),
        );
      },
    };
    const { runtime } = await createRuntime({
      steps: [
        toolCallStep([
          { callId: "linger-1", name: "lingering_tool", args: {} },
          { callId: "echo-1", name: "echo_tool", args: { value: "x" } },
        ]),
        textStep("never reached"),
      ],
      tools: [lingering, echoTool],
    });
    const activities: TurnActivitySink = {
      emit: (activity) => {
        if (activity.type === "tool_call_completed" && activity.callId === "echo-1") throw sinkError;
      },
    };
    await expect(runtime.streamTurn(textInput("hello"), { activities })).rejects.toBe(sinkError);
    await started;
    // The failed turn must not leave a tool running with no one to stop it.
    expect(seenSignal?.aborted).toBe(true);
  });

  it("leaves the runtime usable after a sink failure", async () => {
    const { runtime } = await createRuntime({ steps: [textStep("first"), textStep("second")] });
    const broken = new RecordingSink();
    broken.emit = () => {
      throw sinkError;
    };
    await expect(runtime.streamTurn(textInput("one"), { events: broken })).rejects.toBe(sinkError);
    const turn = await runtime.runTurn(textInput("two"));
    expect(turn.outcome.type).toBe("finished");
  });
});
