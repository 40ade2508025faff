// The same tool written with zod, valibot and arktype: what the model sees, what `execute` receives,
// and what the model hears back when its arguments are wrong, through real turns.
import type { JsonObject, JsonValue, LlmRequest, StandardSchemaV1, ToolDefinition } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { textStep, toolCallStep } from "@lash/testkit";
import { toStandardJsonSchema } from "@valibot/to-json-schema";
import { type } from "arktype";
import * as v from "valibot";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { createRuntime } from "../../test/fixtures.js";
import { textInput } from "../turn/turn-input-builders.js";
import { defineTool } from "./define-tool.js";

const DESCRIPTION = "Forecast the weather in a city.";

/** What every version of the tool answers: the input it received, so the test sees the schema's output. */
function forecast(input: { readonly city: string; readonly days: number; readonly units?: "c" | "f" | undefined }): JsonValue {
  return { city: input.city, days: input.days, units: input.units ?? "c" };
}

// `city` is trimmed by the schema and `days` has a default: `execute` must see both applied.
const zodForecast = defineTool({
  name: "forecast",
  description: DESCRIPTION,
  inputSchema: z.object({
    city: z.string().min(1).trim(),
    days: z.number().int().min(1).max(14).default(3),
    units: z.enum(["c", "f"]).optional(),
  }),
  execute: (input) => {
    expectTypeOf(input.city).toEqualTypeOf<string>();
    expectTypeOf(input.days).toEqualTypeOf<number>();
    return forecast(input);
  },
});

const valibotForecast = defineTool({
  name: "forecast",
  description: DESCRIPTION,
  // valibot keeps JSON Schema in @valibot/to-json-schema; `toStandardJsonSchema` adds `~standard.jsonSchema`.
  inputSchema: toStandardJsonSchema(
    v.object({
      // A `transform` rather than `trim`: the converter stops before a transformation, but refuses `trim`.
      city: v.pipe(
        v.string(),
        v.minLength(1),
        v.transform((city) => city.trim()),
      ),
      days: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(14)), 3),
      units: v.optional(v.picklist(["c", "f"])),
    }),
  ),
  execute: (input) => {
    expectTypeOf(input.city).toEqualTypeOf<string>();
    expectTypeOf(input.days).toEqualTypeOf<number>();
    return forecast(input);
  },
});

const arktypeForecast = defineTool({
  name: "forecast",
  description: DESCRIPTION,
  // arktype 2.2 implements `~standard.jsonSchema` itself.
  inputSchema: type({
    city: type("string > 0").pipe((city) => city.trim()),
    days: ["1 <= number.integer <= 14", "=", 3],
    "units?": "'c' | 'f'",
  }),
  execute: (input) => {
    expectTypeOf(input.city).toEqualTypeOf<string>();
    expectTypeOf(input.days).toEqualTypeOf<number>();
    return forecast(input);
  },
});

/** The JSON Schema every library gives for the tool (each adds a detail or two: zod and valibot write the default). */
const EXPECTED_SCHEMA = {
  type: "object",
  properties: {
    city: { type: "string", minLength: 1 },
    days: { type: "integer", minimum: 1, maximum: 14 },
    units: { enum: ["c", "f"] },
  },
  required: ["city"],
};

const LIBRARIES = [
  { library: "zod", tool: zodForecast, daysTooLarge: "$.days: Too big: expected number to be <=14" },
  { library: "valibot", tool: valibotForecast, daysTooLarge: "$.days: Invalid value: Expected <=14 but received 20" },
  { library: "arktype", tool: arktypeForecast, daysTooLarge: "$.days: days must be at most 14 (was 20)" },
] as const;

/** Runs one turn: the model calls the tool with `args`, then answers "done". */
async function runOneCall(tool: ToolDefinition<unknown>, args: JsonValue) {
  const { runtime, provider } = await createRuntime({
    steps: [toolCallStep([{ callId: "call-1", name: tool.name, args }]), textStep("done")],
    tools: [tool],
  });
  const turn = await runtime.runTurn(textInput("What's the weather?"));
  return { turn, provider };
}

/** The JSON Schema the model saw for `name` (the standard mode's `batch` tool is listed too). */
function modelSchemaOf(request: LlmRequest | undefined, name: string): JsonObject | undefined {
  return request?.tools.find((candidate) => candidate.name === name)?.inputSchema;
}

/** The tool-result text the model saw for `callId` on its next call. */
function toolResultText(request: LlmRequest | undefined, callId: string): string | undefined {
  for (const message of request?.messages ?? []) {
    for (const block of message.blocks) if (block.type === "tool_result" && block.callId === callId) return block.content;
  }
  return undefined;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the action to throw");
}

describe.each(LIBRARIES)("a tool written with $library", ({ tool, daysTooLarge }) => {
  it("shows the model the schema's JSON Schema, without $schema", async () => {
    const { provider } = await runOneCall(tool as ToolDefinition<unknown>, { city: "Paris" });
    expect(provider.requests[0]?.tools.find((candidate) => candidate.name === "forecast")?.description).toBe(DESCRIPTION);
    const schema = modelSchemaOf(provider.requests[0], "forecast");
    expect(schema).toMatchObject(EXPECTED_SCHEMA);
    expect(schema?.required).toEqual(["city"]);
    expect(schema).not.toHaveProperty("$schema");
  });

  it("gives execute the schema's output (trimmed, default applied) and records the arguments as sent", async () => {
    const { turn, provider } = await runOneCall(tool as ToolDefinition<unknown>, { city: "  Paris " });
    expect(turn.toolCalls[0]?.output).toEqual({ outcome: { status: "success", payload: { city: "Paris", days: 3, units: "c" } } });
    expect(turn.toolCalls[0]?.args).toEqual({ city: "  Paris " });
    expect(toolResultText(provider.requests[1], "call-1")).toBe('{"city":"Paris","days":3,"units":"c"}');
  });

  it("answers invalid arguments with an invalid-arguments failure naming the field, and the turn goes on", async () => {
    const { turn, provider } = await runOneCall(tool as ToolDefinition<unknown>, { city: "Paris", days: 20 });
    expect(turn.toolCalls[0]?.output.outcome).toEqual({
      status: "failure",
      payload: { class: "invalid_request", code: "invalid_tool_args", message: daysTooLarge, source: "runtime", retry: { type: "never" } },
    });
    expect(turn.toolCalls[0]?.durationMs).toBe(0);
    expect(toolResultText(provider.requests[1], "call-1")).toBe(`[Tool execution failed]\n${daysTooLarge}`);
    expect(turn.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "done" } });
  });
});

describe("defineTool with a schema that gives no JSON Schema", () => {
  it("throws a typed invalid_configuration error naming the tool and what to do", () => {
    const error = thrown(() =>
      defineTool({
        name: "plain_valibot",
        description: "A valibot schema without toStandardJsonSchema.",
        inputSchema: v.object({ city: v.string() }),
        execute: ({ city }) => city,
      }),
    );
    expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
    expect(error).toHaveProperty(
      "message",
      'tool `plain_valibot`: its input schema (a Standard Schema from "valibot") has no JSON Schema for the model (no `~standard.jsonSchema`): ' +
        "give the tool a modelInputSchema, or use a schema library that implements Standard JSON Schema " +
        "(for valibot: wrap the schema with `toStandardJsonSchema` from `@valibot/to-json-schema`)",
    );
  });

  it("throws when the library cannot convert the schema, with the library's reason", () => {
    const error = thrown(() =>
      defineTool({
        name: "when",
        description: "Dates have no JSON Schema in valibot.",
        inputSchema: toStandardJsonSchema(v.object({ when: v.date() })),
        execute: () => null,
      }),
    );
    expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
    expect(error).toHaveProperty(
      "message",
      'tool `when`: its input schema (a Standard Schema from "valibot") cannot be converted to JSON Schema: ' +
        'The "date" schema cannot be converted to JSON Schema.; give the tool a modelInputSchema instead',
    );
  });

  it("accepts it with a modelInputSchema, validating with the schema itself", async () => {
    const modelInputSchema: JsonObject = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const tool = defineTool({
      name: "city_length",
      description: "Count a city's letters.",
      inputSchema: v.object({ city: v.pipe(v.string(), v.minLength(2)) }),
      modelInputSchema,
      execute: ({ city }) => city.length,
    });
    const accepted = await runOneCall(tool as ToolDefinition<unknown>, { city: "Lyon" });
    expect(modelSchemaOf(accepted.provider.requests[0], "city_length")).toEqual(modelInputSchema);
    expect(accepted.turn.toolCalls[0]?.output).toEqual({ outcome: { status: "success", payload: 4 } });
    const rejected = await runOneCall(tool as ToolDefinition<unknown>, { city: "L" });
    expect(rejected.turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { code: "invalid_tool_args", message: "$.city: Invalid length: Expected >=2 but received 1" },
    });
  });

  it("refuses a schema whose top level is not an object", () => {
    expect(() => defineTool({ name: "scalar", description: "Not an object.", inputSchema: type("string"), execute: () => null })).toThrow(
      'tool `scalar`: its input schema must describe an object (tools take a JSON object of named arguments), but it is type "string"',
    );
  });
});

describe("an asynchronous Standard Schema", () => {
  it("is awaited before the tool runs", async () => {
    const inputSchema = z.object({ code: z.string().refine(async (code) => code === "open", "wrong code") });
    const tool = defineTool({ name: "door", description: "Open the door.", inputSchema, execute: ({ code }) => `opened with ${code}` });
    const accepted = await runOneCall(tool as ToolDefinition<unknown>, { code: "open" });
    expect(accepted.turn.toolCalls[0]?.output).toEqual({ outcome: { status: "success", payload: "opened with open" } });
    const rejected = await runOneCall(tool as ToolDefinition<unknown>, { code: "closed" });
    expect(rejected.turn.toolCalls[0]?.output.outcome).toMatchObject({
      status: "failure",
      payload: { code: "invalid_tool_args", message: "$.code: wrong code" },
    });
  });
});

describe("a tool defined with a plain JSON Schema", () => {
  const inputSchema: JsonObject = {
    type: "object",
    properties: {
      order: { $ref: "#/$defs/Order" },
      priority: { enum: ["low", "high"] },
    },
    required: ["order"],
    additionalProperties: false,
    $defs: {
      Order: {
        type: "object",
        properties: { id: { type: "string", pattern: "^ord-[0-9]+$" }, lines: { type: "array", items: { type: "integer" }, minItems: 1 } },
        required: ["id", "lines"],
      },
    },
  };
  const received: JsonValue[] = [];
  const tool = defineTool({
    name: "ship",
    description: "Ship an order.",
    inputSchema,
    execute: (input) => {
      expectTypeOf(input).toEqualTypeOf<JsonValue>();
      received.push(input);
      return "shipped";
    },
  });

  it("shows the model the schema as it is, and gives execute the arguments as sent", async () => {
    const args = { order: { id: "ord-17", lines: [1, 2] }, priority: "high" };
    const { turn, provider } = await runOneCall(tool as ToolDefinition<unknown>, args);
    expect(modelSchemaOf(provider.requests[0], "ship")).toEqual(inputSchema);
    expect(turn.toolCalls[0]?.output).toEqual({ outcome: { status: "success", payload: "shipped" } });
    expect(received.at(-1)).toEqual(args);
  });

  it.each([
    [{ priority: "low" }, '$: Instance does not have required property "order".'],
    [{ order: { id: "ord-17", lines: [1] }, priority: "urgent" }, '$.priority: Instance does not match any of ["low","high"].'],
    [{ order: { id: "17", lines: [1] } }, "$.order.id: String does not match pattern."],
    [{ order: { id: "ord-17", lines: [1, "2"] } }, '$.order.lines[1]: Instance type "string" is invalid. Expected "integer".'],
    [{ order: { id: "ord-17", lines: [] } }, "$.order.lines: Array has too few items (0 < 1)."],
    [{ order: { id: "ord-17", lines: [1] }, rush: true }, "$.rush: property is not allowed (the schema has additionalProperties: false)"],
  ])("rejects %j with the field and the validator's reason", async (args, message) => {
    const { turn } = await runOneCall(tool as ToolDefinition<unknown>, args);
    expect(turn.toolCalls[0]?.output.outcome).toMatchObject({ status: "failure", payload: { code: "invalid_tool_args", message } });
  });

  it("refuses a schema the validator could not apply where the tool is defined", () => {
    const error = thrown(() =>
      defineTool({
        name: "broken",
        description: "A dangling $ref.",
        inputSchema: { type: "object", $ref: "#/$defs/Gone" },
        execute: () => null,
      }),
    );
    expect(LashError.isInstance(error) && error.code).toBe("invalid_configuration");
    expect(error).toHaveProperty(
      "message",
      'tool `broken` has an unusable input schema: #/$ref: the schema\'s $ref "#/$defs/Gone" does not resolve inside the schema (other documents are not fetched)',
    );
  });
});

describe("defineTool's types", () => {
  it("infers execute's input from the schema's output type", () => {
    const schema = z.object({ count: z.string().transform((text) => Number(text)) });
    const tool = defineTool({ name: "typed", description: "Typed.", inputSchema: schema, execute: ({ count }) => count + 1 });
    expectTypeOf(tool).toEqualTypeOf<ToolDefinition<{ count: number }>>();
    const standard: StandardSchemaV1<unknown, { readonly id: string }> = {
      "~standard": { version: 1, vendor: "hand-made", validate: () => ({ value: { id: "x" } }) },
    };
    const handMade = defineTool({
      name: "hand_made",
      description: "Hand-made.",
      inputSchema: standard,
      modelInputSchema: { type: "object" },
      execute: ({ id }) => id,
    });
    expectTypeOf(handMade).toEqualTypeOf<ToolDefinition<{ readonly id: string }>>();
  });
});
