import { jsonTextDepth } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { checkCommitDepth, MAX_STORED_JSON_DEPTH, MAX_VALUE_DEPTH, parseJsonWithinDepth, valueDepth } from "./json-depth.js";

describe("jsonTextDepth", () => {
  it("counts the brackets open at once, outside strings only", () => {
    expect(jsonTextDepth("1", 10)).toBe(0);
    expect(jsonTextDepth('{"a":[1,{"b":[]}],"c":{}}', 10)).toBe(4);
    // Brackets, escaped quotes and escaped backslashes inside strings are text.
    expect(jsonTextDepth('["[[[{{{", "\\"[[[", "\\\\", [1]]', 10)).toBe(2);
    expect(jsonTextDepth('{"k\\\\":"]]]]"}', 10)).toBe(1);
  });

  it("stops as soon as the depth passes the limit, whatever follows", () => {
    expect(jsonTextDepth(`${"[".repeat(100_000)}`, 512)).toBe(513);
  });
});

describe("parseJsonWithinDepth", () => {
  it("parses up to the limit and refuses beyond it, without parsing", () => {
    const atLimit = `${"[".repeat(MAX_STORED_JSON_DEPTH)}${"]".repeat(MAX_STORED_JSON_DEPTH)}`;
    expect(parseJsonWithinDepth(atLimit).ok).toBe(true);
    const beyond = parseJsonWithinDepth(`[${atLimit}]`);
    expect(beyond).toMatchObject({ ok: false, problem: expect.stringContaining(`nested deeper than ${MAX_STORED_JSON_DEPTH}`) });
  });

  it("reports malformed text with the parser's error as the cause", () => {
    const reading = parseJsonWithinDepth('{"a":');
    expect(reading).toMatchObject({ ok: false, problem: expect.stringContaining("not valid JSON") });
    expect(reading.ok ? undefined : (reading.cause as Error).name).toBe("SyntaxError");
  });
});

describe("valueDepth and checkCommitDepth", () => {
  it("measure values as JSON nests them, and end on a cyclic value", () => {
    expect(valueDepth("text", 10)).toBe(0);
    expect(valueDepth({ a: [1, { b: [] }] }, 10)).toBe(4);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(valueDepth(cyclic, 50)).toBe(51);
  });

  it("refuses a commit whose node, checkpoint or config nests deeper than MAX_VALUE_DEPTH, naming where", () => {
    let deep: unknown = [];
    for (let level = 1; level <= MAX_VALUE_DEPTH; level += 1) deep = [deep];
    expect(() => checkCommitDepth({ graph: { nodes: [{}, { body: deep }] } })).toThrow(/graph\.nodes\.1/);
    expect(() => checkCommitDepth({ checkpoint: { state: deep } })).toThrow(/`checkpoint`/);
    expect(() => checkCommitDepth({ config: deep })).toThrow(/`config`/);
    expect(() => checkCommitDepth({ graph: { nodes: [{ body: [[[]]] }] }, checkpoint: {}, config: {} })).not.toThrow();
  });
});
