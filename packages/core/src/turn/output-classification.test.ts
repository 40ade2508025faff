import type { TurnIssue } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { classifyOutputState, containsTracebackOnly, renderSubmittedValue, sanitizeAssistantText } from "./output-classification.js";

const RUNTIME_ISSUE: TurnIssue = { kind: "runtime", message: "something went wrong" };

describe("sanitizeAssistantText", () => {
  it("trims the end of every line and the whole text, keeping inner blank lines", () => {
    expect(sanitizeAssistantText("\n\n  Intro paragraph.   \n\n## Heading\t\n\n")).toBe("Intro paragraph.\n\n## Heading");
  });

  it("turns CRLF line endings into LF", () => {
    expect(sanitizeAssistantText("first line  \r\nsecond line\r\n")).toBe("first line\nsecond line");
  });

  it("keeps leading indentation of inner lines", () => {
    expect(sanitizeAssistantText("code:\n    indented()\n")).toBe("code:\n    indented()");
  });

  it("makes whitespace-only text empty", () => {
    expect(sanitizeAssistantText(" \r\n\t\n  ")).toBe("");
  });
});

describe("containsTracebackOnly", () => {
  it("recognises a Python traceback", () => {
    const trace = "Traceback (most recent call last):\n  File \"main.py\", line 1, in <module>\nNameError: name 'x' is not defined";
    expect(containsTracebackOnly(trace)).toBe(true);
  });

  it("recognises an error line without a traceback header", () => {
    expect(containsTracebackOnly("  KeyError: 'missing'")).toBe(true);
    expect(containsTracebackOnly("ModuleNotFoundError: No module named 'nope'")).toBe(true);
  });

  it("rejects text that has a trace but also a line of prose without a colon", () => {
    expect(containsTracebackOnly("TypeError: bad operand\nI will try a different approach")).toBe(false);
  });

  it("accepts trace frame lines that carry no colon", () => {
    expect(containsTracebackOnly("Traceback (most recent call last)\nFile main.py line 3\nValueError: bad")).toBe(true);
  });

  it("rejects text without any trace marker, even when every line has a colon", () => {
    expect(containsTracebackOnly("Note: all good\nStatus: done")).toBe(false);
  });

  it("rejects empty text", () => {
    expect(containsTracebackOnly("")).toBe(false);
  });
});

describe("classifyOutputState", () => {
  it("output_state_empty_output: empty raw and safe text is empty_output", () => {
    expect(classifyOutputState("", "", [])).toBe("empty_output");
  });

  it("output_state_traceback_only: an empty safe text over a trace is traceback_only", () => {
    const raw = "Runtime error: Traceback (most recent call last):\nFile \"<cell>\", line 1\nNameError: name 'x' is not defined";
    expect(classifyOutputState(raw, "", [])).toBe("traceback_only");
  });

  it("output_state_recovered_from_error: usable text with issues is recovered_from_error", () => {
    expect(classifyOutputState("raw", "usable", [RUNTIME_ISSUE])).toBe("recovered_from_error");
  });

  it("plain text without issues is usable", () => {
    expect(classifyOutputState("answer", "answer", [])).toBe("usable");
  });

  it("whitespace-only raw text is usable, not empty_output", () => {
    expect(classifyOutputState("  \n ", sanitizeAssistantText("  \n "), [])).toBe("usable");
  });

  it("issues with an empty safe text that is not a trace stay usable", () => {
    expect(classifyOutputState("   ", "", [RUNTIME_ISSUE])).toBe("usable");
  });

  it("empty_output wins over issues", () => {
    expect(classifyOutputState("", "", [RUNTIME_ISSUE])).toBe("empty_output");
  });
});

describe("renderSubmittedValue", () => {
  it("renders null as empty text", () => {
    expect(renderSubmittedValue(null)).toBe("");
  });

  it("renders a string as it is, without JSON quotes", () => {
    expect(renderSubmittedValue('plain "answer"\n')).toBe('plain "answer"\n');
  });

  it("renders an object as two-space JSON with keys sorted at every depth", () => {
    expect(renderSubmittedValue({ zeta: 1, alpha: { beta: true, aardvark: [2, { y: null, x: "x" }] } })).toBe(
      [
        "{",
        '  "alpha": {',
        '    "aardvark": [',
        "      2,",
        "      {",
        '        "x": "x",',
        '        "y": null',
        "      }",
        "    ],",
        '    "beta": true',
        "  },",
        '  "zeta": 1',
        "}",
      ].join("\n"),
    );
  });

  it("renders numbers, booleans and arrays as JSON", () => {
    expect(renderSubmittedValue(42)).toBe("42");
    expect(renderSubmittedValue(false)).toBe("false");
    expect(renderSubmittedValue([1, "two"])).toBe('[\n  1,\n  "two"\n]');
  });
});
