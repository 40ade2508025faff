import type { TurnActivity } from "@lash/protocol";
import { textStep, toolCallStep, usage } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { createRuntime, echoTool, RecordingActivities, slowTool } from "../../test/fixtures.js";
import { textInput } from "../index.js";

/** A tool round trip streamed in pieces: prose, a tool call, then a three-piece answer. */
function roundTrip() {
  return [
    toolCallStep([{ callId: "e1", name: "echo_tool", args: { value: "y" } }], { text: "Let me look.", usage: usage(10, 2) }),
    textStep("Found it here.", { chunks: 3, usage: usage(20, 4) }),
  ];
}

async function collect<Item>(items: AsyncIterable<Item>): Promise<Item[]> {
  const collected: Item[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

const typeOf = (activity: TurnActivity) => activity.type;

describe("TurnStream", () => {
  it("iterates every activity in order, the same ones an activities sink gets, and resolves the turn", async () => {
    const { runtime: reference } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const sink = new RecordingActivities();
    await reference.runTurn(textInput("find y"), { activities: sink });

    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const turn = runtime.streamTurn("find y");
    const activities = await collect(turn);
    const result = await turn;

    expect(activities.map(typeOf)).toEqual(sink.activities.map(typeOf));
    expect(activities.map(typeOf)).toContain("tool_call_completed");
    expect(result.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "Found it here." } });
    expect(await turn.result).toBe(result);
    expect(result.tokenUsage).toMatchObject({ inputTokens: 30, outputTokens: 6 });
  });

  it("streams the text of every model call, piece by piece", async () => {
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const pieces = await collect(runtime.streamTurn(textInput("find y")).textStream);
    expect(pieces.join("")).toBe("Let me look.Found it here.");
    expect(pieces.length).toBeGreaterThan(2);
  });

  it("does not make the turn wait for a slow reader, and the reader still gets every activity", async () => {
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const turn = runtime.streamTurn(textInput("find y"));
    const iterator = turn[Symbol.asyncIterator]();
    const first = await iterator.next();
    // The reader holds on to the first activity while the whole turn runs and commits.
    const result = await turn.result;
    const rest: TurnActivity[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      await new Promise((resolve) => setImmediate(resolve));
      rest.push(next.value);
    }
    const everything = [first.value as TurnActivity, ...rest];
    expect(result.outcome.type).toBe("finished");
    expect(everything.map(typeOf)).toEqual((await collect(turn)).map(typeOf));
    expect(everything.filter((activity) => activity.type === "text_delta").length).toBeGreaterThan(2);
  });

  it("runs to the end when nobody reads, and a reader that starts late still gets everything", async () => {
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const turn = runtime.streamTurn(textInput("find y"));
    const result = await turn;
    expect(result.assistantOutput.safeText).toBe("Found it here.");
    const late = await collect(turn);
    expect(late[0]?.type).toBe("model_request_started");
    expect(late.map(typeOf)).toContain("usage");
  });

  it("lets a reader leave early without stopping the turn", async () => {
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const turn = runtime.streamTurn(textInput("find y"));
    for await (const activity of turn) if (activity.type === "text_delta") break;
    expect((await turn).outcome.type).toBe("finished");
    expect(runtime.exportState().turnIndex).toBe(1);
  });

  it("cancels the turn: it ends cancelled and what it produced is kept", async () => {
    const slow = slowTool();
    const { runtime } = await createRuntime({
      steps: [toolCallStep([{ callId: "s1", name: "slow_tool", args: {} }], { text: "Working on it.", usage: usage(5, 1) })],
      tools: [slow],
    });
    const turn = runtime.streamTurn(textInput("go"));
    await slow.started;
    turn.cancel("the user left");
    const result = await turn;
    expect(result.outcome).toEqual({ type: "stopped", stop: { type: "cancelled" } });
    expect(slow.sawCancellation).toBe(true);
    expect(result.tokenUsage).toMatchObject({ inputTokens: 5, outputTokens: 1 });
    expect((await collect(turn.textStream)).join("")).toBe("Working on it.");
  });

  it("gives the activities as a web ReadableStream", async () => {
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const turn = runtime.streamTurn(textInput("find y"));
    const read: TurnActivity[] = [];
    const reader = turn.toReadableStream().getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) read.push(next.value);
    expect(read.map(typeOf)).toEqual((await collect(turn)).map(typeOf));
  });

  it("ends every reader with the turn's error after the activities produced before it", async () => {
    const failure = new Error("event sink failed");
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const turn = runtime.streamTurn(textInput("find y"), {
      events: {
        emit: (event) => {
          if (event.type === "tool_call_started") throw failure;
        },
      },
    });
    const seen: TurnActivity[] = [];
    const thrown = await (async () => {
      try {
        for await (const activity of turn) seen.push(activity);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBe(failure);
    expect(seen.map(typeOf)).toContain("text_delta");
    await expect(turn.result).rejects.toBe(failure);
  });
});
