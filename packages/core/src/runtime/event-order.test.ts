import type { EventSink, JsonValue, SessionEvent, ToolDefinition, TurnActivity, TurnActivitySink } from "@lash/protocol";
import { errorStep, type ScriptedStep, textStep, toolCallStep, usage } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { createRuntime, echoTool } from "../../test/fixtures.js";
import { textInput } from "../index.js";

type Entry =
  | { readonly stream: "session"; readonly event: SessionEvent }
  | { readonly stream: "activity"; readonly activity: TurnActivity };

/** One recorder behind both sinks, so the relative order across them is visible. */
class CombinedRecorder {
  readonly entries: Entry[] = [];
  readonly events: EventSink;
  readonly activities: TurnActivitySink;
  /** The most deliveries that were pending at the same time (async recorders only). */
  maxInFlight = 0;

  constructor(delay?: () => Promise<void>) {
    let inFlight = 0;
    const deliver = (entry: Entry): void | Promise<void> => {
      if (!delay) {
        this.entries.push(entry);
        return undefined;
      }
      inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, inFlight);
      return delay().then(() => {
        this.entries.push(entry);
        inFlight -= 1;
      });
    };
    this.events = { emit: (event) => deliver({ stream: "session", event }) };
    this.activities = { emit: (activity) => deliver({ stream: "activity", activity }) };
  }

  labels(): string[] {
    return this.entries.map((entry) => (entry.stream === "session" ? `S:${entry.event.type}` : `A:${entry.activity.type}`));
  }

  /** Index of the `nth` (0-based) entry with `label`; -1 when absent. */
  indexOf(label: string, nth = 0): number {
    let seen = 0;
    for (const [index, current] of this.labels().entries()) {
      if (current !== label) continue;
      if (seen === nth) return index;
      seen += 1;
    }
    return -1;
  }

  indexesOf(label: string): number[] {
    return this.labels().flatMap((current, index) => (current === label ? [index] : []));
  }

  activitiesOf<T extends TurnActivity["type"]>(type: T): Extract<TurnActivity, { type: T }>[] {
    return this.entries.flatMap((entry) =>
      entry.stream === "activity" && entry.activity.type === type ? [entry.activity as Extract<TurnActivity, { type: T }>] : [],
    );
  }

  sessionEventsOf<T extends SessionEvent["type"]>(type: T): Extract<SessionEvent, { type: T }>[] {
    return this.entries.flatMap((entry) =>
      entry.stream === "session" && entry.event.type === type ? [entry.event as Extract<SessionEvent, { type: T }>] : [],
    );
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Deferred per key, created on first use by either side. */
class Gates {
  readonly #gates = new Map<string, Deferred>();
  gate(key: string): Deferred {
    let gate = this.#gates.get(key);
    if (!gate) {
      gate = deferred();
      this.#gates.set(key, gate);
    }
    return gate;
  }
}

/** Expects the indexes to be strictly increasing (each one present). */
function expectInOrder(recorder: CombinedRecorder, steps: readonly (readonly [string, number?])[]): void {
  const positions = steps.map(([label, nth]) => ({ label: `${label}#${nth ?? 0}`, index: recorder.indexOf(label, nth ?? 0) }));
  for (const position of positions) expect(position.index, `${position.label} is missing`).toBeGreaterThanOrEqual(0);
  for (let index = 1; index < positions.length; index += 1) {
    const previous = positions[index - 1];
    const current = positions[index];
    expect(current?.index, `${previous?.label} should come before ${current?.label}`).toBeGreaterThan(previous?.index ?? -1);
  }
}

const roundTrip = (): ScriptedStep[] => [
  toolCallStep([{ callId: "call-a", name: "echo_tool", args: { value: "x" } }], { text: "Let me check.", chunks: 2, usage: usage(10, 5) }),
  textStep("All done.", { chunks: 2, usage: usage(20, 3) }),
];

describe("projection order", () => {
  it("emits each projected activity immediately before its session event", async () => {
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const recorder = new CombinedRecorder();
    await runtime.streamTurn(textInput("hello"), recorder);
    const pairs = [
      ["S:model_request_started", "A:model_request_started"],
      ["S:usage", "A:usage"],
    ] as const;
    for (const [sessionLabel, activityLabel] of pairs) {
      const sessionIndexes = recorder.indexesOf(sessionLabel);
      expect(sessionIndexes).toHaveLength(2);
      for (const index of sessionIndexes) expect(recorder.labels()[index - 1]).toBe(activityLabel);
    }
    // The projected activity carries the session event's data.
    const requests = recorder.sessionEventsOf("model_request_started");
    expect(recorder.activitiesOf("model_request_started").map((activity) => activity.modeIteration)).toEqual(
      requests.map((event) => event.modeIteration),
    );
    const usages = recorder.sessionEventsOf("usage");
    expect(recorder.activitiesOf("usage").map((activity) => [activity.usage, activity.cumulative])).toEqual(
      usages.map((event) => [event.usage, event.cumulative]),
    );
  });

  it("emits the error activity immediately before the error session event", async () => {
    const { runtime } = await createRuntime({ steps: [errorStep({ message: "bad request", status: 400 })] });
    const recorder = new CombinedRecorder();
    const turn = await runtime.streamTurn(textInput("hello"), recorder);
    expect(turn.outcome).toEqual({ type: "stopped", stop: { type: "provider_error" } });
    const errorIndexes = recorder.indexesOf("S:error");
    expect(errorIndexes.length).toBeGreaterThan(0);
    for (const index of errorIndexes) {
      expect(recorder.labels()[index - 1]).toBe("A:error");
      const session = recorder.entries[index];
      const activity = recorder.entries[index - 1];
      if (
        session?.stream !== "session" ||
        session.event.type !== "error" ||
        activity?.stream !== "activity" ||
        activity.activity.type !== "error"
      ) {
        throw new Error("expected an error pair");
      }
      expect(activity.activity.message).toBe(session.event.message);
    }
  });
});

describe("the typical order of a standard turn with one tool round trip", () => {
  it("follows §4", async () => {
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const recorder = new CombinedRecorder();
    const turn = await runtime.streamTurn(textInput("hello"), recorder);
    expect(turn.assistantOutput.safeText).toBe("All done.");

    expectInOrder(recorder, [
      ["A:model_request_started", 0],
      ["S:model_request_started", 0],
      ["A:text_delta", 0],
      ["A:text_delta", 1],
      ["A:usage", 0],
      ["S:usage", 0],
      ["S:model_response_completed", 0],
      ["S:tool_call_started", 0],
      ["A:tool_call_completed", 0],
      ["S:tool_call_completed", 0],
      ["A:model_request_started", 1],
      ["S:model_request_started", 1],
      ["A:text_delta", 2],
      ["A:usage", 1],
      ["S:usage", 1],
      ["S:model_response_completed", 1],
      ["S:turn_outcome", 0],
      ["S:done", 0],
    ]);
    expectInOrder(recorder, [
      ["S:model_response_completed", 0],
      ["A:tool_call_started", 0],
      ["A:tool_call_completed", 0],
    ]);
    // Streamed text reaches both sinks before the usage of its call.
    expect(recorder.indexOf("S:text_delta", 1)).toBeLessThan(recorder.indexOf("A:usage", 0));
    // `done` is the last event of the turn.
    expect(recorder.labels().at(-1)).toBe("S:done");
    expect(recorder.indexesOf("S:done")).toHaveLength(1);
    expect(recorder.indexesOf("S:turn_outcome")).toHaveLength(1);
  });

  it("uses one prose correlation id per model call and tool:{callId} for tool activities; activity ids are unique", async () => {
    const { runtime } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const recorder = new CombinedRecorder();
    await runtime.streamTurn(textInput("hello"), recorder);

    const prose = recorder.activitiesOf("text_delta");
    expect(prose).toHaveLength(4);
    expect(prose.map((activity) => activity.text).join("")).toBe("Let me check.All done.");
    const secondCallStart = recorder.indexOf("A:model_request_started", 1);
    const correlationOf = (first: boolean): Set<string> =>
      new Set(
        recorder.entries
          .map((entry, index) => ({ entry, index }))
          .filter(
            ({ entry, index }) => entry.stream === "activity" && entry.activity.type === "text_delta" && index < secondCallStart === first,
          )
          .map(({ entry }) => (entry.stream === "activity" ? entry.activity.correlationId : "")),
      );
    const firstCall = correlationOf(true);
    const secondCall = correlationOf(false);
    expect(firstCall.size).toBe(1);
    expect(secondCall.size).toBe(1);
    expect([...firstCall][0]).not.toBe([...secondCall][0]);

    const toolActivities = [...recorder.activitiesOf("tool_call_started"), ...recorder.activitiesOf("tool_call_completed")];
    expect(toolActivities).toHaveLength(2);
    for (const activity of toolActivities) expect(activity.correlationId).toBe("tool:call-a");

    const ids = recorder.entries.flatMap((entry) => (entry.stream === "activity" ? [entry.activity.id] : []));
    expect(new Set(ids).size).toBe(ids.length);
    // Independent activities get fresh correlation ids, never a prose or tool one.
    const usages = recorder.activitiesOf("usage").map((activity) => activity.correlationId);
    expect(new Set(usages).size).toBe(2);
    for (const id of usages) expect([...firstCall, ...secondCall, "tool:call-a"]).not.toContain(id);
  });

  it("emits the session tool_call events after the whole batch, in call order, while completions arrive live", async () => {
    const gates = new Gates();
    const gated: ToolDefinition<JsonValue> = {
      name: "gated_tool",
      description: "Finishes when the test says so.",
      inputSchema: { type: "object" },
      execute: async (_input, context) => {
        gates.gate(`started:${context.callId}`).resolve();
        await gates.gate(`release:${context.callId}`).promise;
        return `result of ${context.callId}`;
      },
    };
    const { runtime } = await createRuntime({
      steps: [
        toolCallStep([
          { callId: "first", name: "gated_tool", args: {} },
          { callId: "second", name: "gated_tool", args: {} },
        ]),
        textStep("done"),
      ],
      tools: [gated],
    });
    const recorder = new CombinedRecorder();
    const completed = new Map<string, Deferred>([
      ["first", deferred()],
      ["second", deferred()],
    ]);
    const activities: TurnActivitySink = {
      emit: (activity) => {
        void recorder.activities.emit(activity);
        if (activity.type === "tool_call_completed" && activity.callId) completed.get(activity.callId)?.resolve();
      },
    };
    const turnPromise = runtime.streamTurn(textInput("two tools"), { events: recorder.events, activities });
    await Promise.all([gates.gate("started:first").promise, gates.gate("started:second").promise]);
    gates.gate("release:second").resolve();
    await completed.get("second")?.promise;
    expect(recorder.sessionEventsOf("tool_call_completed")).toEqual([]);
    gates.gate("release:first").resolve();
    await turnPromise;

    expect(recorder.activitiesOf("tool_call_completed").map((activity) => activity.callId)).toEqual(["second", "first"]);
    expect(recorder.sessionEventsOf("tool_call_completed").map((event) => event.callId)).toEqual(["first", "second"]);
    const lastCompletion = Math.max(...recorder.indexesOf("A:tool_call_completed"));
    for (const index of recorder.indexesOf("S:tool_call_completed")) expect(index).toBeGreaterThan(lastCompletion);
  });
});

describe("asynchronous sinks", () => {
  it("back-pressure the turn: nothing goes on while a sink's promise is pending", async () => {
    const { runtime, provider } = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const hold = deferred();
    const reached = deferred();
    const recorder = new CombinedRecorder();
    const activities: TurnActivitySink = {
      emit: (activity) => {
        void recorder.activities.emit(activity);
        if (activity.type === "model_request_started" && activity.modeIteration === 0) {
          reached.resolve();
          return hold.promise;
        }
        return undefined;
      },
    };
    const turnPromise = runtime.streamTurn(textInput("hello"), { events: recorder.events, activities });
    await reached.promise;
    // Give the turn every chance to run ahead.
    for (let round = 0; round < 5; round += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(provider.callCount).toBe(0);
    expect(recorder.labels()).toEqual(["A:model_request_started"]);
    hold.resolve();
    const turn = await turnPromise;
    expect(turn.assistantOutput.safeText).toBe("All done.");
    expect(provider.callCount).toBe(2);
  });

  it("keep the global order of a synchronous run and never receive two deliveries at once", async () => {
    const synchronous = new CombinedRecorder();
    const first = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    await first.runtime.streamTurn(textInput("hello"), synchronous);

    let tick = 0;
    // Each delivery settles after a varying number of macrotask hops.
    const asynchronous = new CombinedRecorder(async () => {
      tick += 1;
      for (let hop = 0; hop < tick % 3; hop += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    });
    const second = await createRuntime({ steps: roundTrip(), tools: [echoTool] });
    const turn = await second.runtime.streamTurn(textInput("hello"), asynchronous);

    expect(turn.assistantOutput.safeText).toBe("All done.");
    expect(asynchronous.labels()).toEqual(synchronous.labels());
    expect(asynchronous.maxInFlight).toBe(1);
  });
});

describe("tool scheduling", () => {
  it("runs parallel calls concurrently, then serial calls one at a time in call order", async () => {
    const log: string[] = [];
    const gates = new Gates();
    const makeTool = (name: string, executionMode: "parallel" | "serial"): ToolDefinition<JsonValue> => ({
      name,
      description: `A ${executionMode} tool.`,
      inputSchema: { type: "object" },
      executionMode,
      execute: async (_input, context) => {
        const id = context.callId ?? "?";
        log.push(`start ${id}`);
        gates.gate(`started:${id}`).resolve();
        await gates.gate(`release:${id}`).promise;
        log.push(`end ${id}`);
        return id;
      },
    });
    const { runtime } = await createRuntime({
      steps: [
        toolCallStep([
          { callId: "s1", name: "serial_tool", args: {} },
          { callId: "p1", name: "parallel_tool", args: {} },
          { callId: "s2", name: "serial_tool", args: {} },
          { callId: "p2", name: "parallel_tool", args: {} },
        ]),
        textStep("done"),
      ],
      tools: [makeTool("serial_tool", "serial"), makeTool("parallel_tool", "parallel")],
    });
    const recorder = new CombinedRecorder();
    const turnPromise = runtime.streamTurn(textInput("schedule"), recorder);

    await Promise.all([gates.gate("started:p1").promise, gates.gate("started:p2").promise]);
    // Both parallel calls run at once; no serial call has started.
    expect(log).toEqual(["start p1", "start p2"]);
    gates.gate("release:p2").resolve();
    gates.gate("release:p1").resolve();

    await gates.gate("started:s1").promise;
    expect(log.slice(2).sort()).toEqual(["end p1", "end p2", "start s1"].sort());
    expect(log.at(-1)).toBe("start s1");
    // The second serial call waits for the first.
    for (let round = 0; round < 5; round += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(log).not.toContain("start s2");
    gates.gate("release:s1").resolve();
    await gates.gate("started:s2").promise;
    expect(log.slice(-2)).toEqual(["end s1", "start s2"]);
    gates.gate("release:s2").resolve();
    const turn = await turnPromise;

    expect(log.at(-1)).toBe("end s2");
    // Results come back in call order whatever the schedule.
    expect(turn.toolCalls.map((record) => record.callId)).toEqual(["s1", "p1", "s2", "p2"]);
    expect(recorder.sessionEventsOf("tool_call_completed").map((event) => event.callId)).toEqual(["s1", "p1", "s2", "p2"]);
    expect(turn.toolCalls.map((record) => record.output.outcome)).toEqual(
      ["s1", "p1", "s2", "p2"].map((id) => ({ status: "success", payload: id })),
    );
  });
});
