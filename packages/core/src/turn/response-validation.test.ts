import { llmResponseSchema } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { readProviderResponse } from "./response-validation.js";

const usage = { inputTokens: 10, outputTokens: 5, cachedInputTokens: 2, reasoningTokens: 1 };

/** What the schema makes of `value` (the reading must give the same). */
function parsed(value: unknown): unknown {
  return llmResponseSchema.parse(value);
}

describe("readProviderResponse", () => {
  const usual = [
    {
      name: "text and a tool call",
      value: {
        fullText: "hi",
        parts: [
          { type: "text", text: "hi" },
          { type: "tool_call", callId: "c1", toolName: "add", inputJson: "{}" },
        ],
        usage,
        terminalReason: "tool_use",
      },
    },
    {
      name: "reasoning and the optional text fields",
      value: {
        fullText: "",
        parts: [{ type: "reasoning", text: "so" }],
        usage,
        terminalReason: "stop",
        terminalDiagnostic: "note",
        requestBody: "{}",
        httpSummary: "HTTP 200",
      },
    },
    { name: "no parts", value: { fullText: "", parts: [], usage, terminalReason: "unknown" } },
  ];

  it.each(usual)("reads $name as the schema does, into a copy", ({ value }) => {
    const reading = readProviderResponse(value);
    expect(reading).toEqual({ ok: true, response: parsed(value) });
    if (!reading.ok) return;
    expect(reading.response).not.toBe(value);
    if (value.parts.length > 0) expect(reading.response.parts[0]).not.toBe(value.parts[0]);
    expect(reading.response.usage).not.toBe(value.usage);
  });

  const unusual = [
    { name: "defaults to fill", value: {} },
    { name: "a key the schema strips", value: { fullText: "x", parts: [], usage, terminalReason: "stop", extra: 1 } },
    {
      name: "a part key the schema strips",
      value: { fullText: "x", parts: [{ type: "text", text: "x", extra: true }], usage, terminalReason: "stop" },
    },
    {
      name: "provider metadata",
      value: { fullText: "x", parts: [{ type: "text", text: "x", responseMeta: { id: "msg_1" } }], usage, terminalReason: "stop" },
    },
    { name: "a raw usage object", value: { fullText: "x", parts: [], usage, terminalReason: "stop", providerUsage: { tokens: 3 } } },
    { name: "usage with a count missing", value: { fullText: "x", parts: [], usage: { inputTokens: 1 }, terminalReason: "stop" } },
  ];

  it.each(unusual)("leaves $name to the schema, with the schema's result", ({ value }) => {
    expect(readProviderResponse(value)).toEqual({ ok: true, response: parsed(value) });
  });

  const invalid = [
    { name: "a text part without text", value: { parts: [{ type: "text" }] }, problem: /^at `parts\.0\.text`: / },
    {
      name: "a usage count that is not an integer",
      value: { fullText: "", parts: [], usage: { ...usage, outputTokens: 1.5 }, terminalReason: "stop" },
      problem: /^at `usage\.outputTokens`: /,
    },
    {
      name: "an unknown terminal reason",
      value: { fullText: "", parts: [], usage, terminalReason: "bored" },
      problem: /^at `terminalReason`: /,
    },
    { name: "not an object", value: "text", problem: /^at `\(root\)`: / },
  ];

  it.each(invalid)("refuses $name, naming the path", ({ value, problem }) => {
    const reading = readProviderResponse(value);
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.problem).toMatch(problem);
  });
});
