import { compareCodePoints } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { escapePostgresText, unescapePostgresText } from "./postgres-text-escape-plugin.js";

describe("the PostgreSQL text escape", () => {
  const samples = [
    "",
    "a",
    "\u0000",
    "\u0001",
    "\u0002",
    "\u0000\u0000",
    "\u0000a",
    "\u0001\u0001",
    "\u0001\u0002",
    "a\u0000b",
    "\u0001x\u0000",
    "plain",
    "\u{1f600}",
    "\uFFFD",
    "\u0001\u0001\u0002",
  ];

  it("round-trips every string and leaves strings without U+0000 and U+0001 untouched", () => {
    for (const sample of samples) expect(unescapePostgresText(escapePostgresText(sample))).toBe(sample);
    expect(escapePostgresText("plain \u{1f600} text")).toBe("plain \u{1f600} text");
    expect(escapePostgresText("a\u0000b")).not.toContain("\u0000");
  });

  it("keeps code-point order, so ORDER BY and cursors mean the same on escaped text", () => {
    for (const left of samples) {
      for (const right of samples) {
        expect(
          Math.sign(compareCodePoints(escapePostgresText(left), escapePostgresText(right))),
          `${JSON.stringify(left)} vs ${JSON.stringify(right)}`,
        ).toBe(Math.sign(compareCodePoints(left, right)));
      }
    }
  });
});
