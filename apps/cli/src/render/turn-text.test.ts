import { describe, expect, it } from "vitest";
import { printable } from "./turn-text.js";

describe("printable", () => {
  it("shows control characters as escapes, so model text cannot rewrite the terminal line", () => {
    const forged = "touch /tmp/x #\r\u001b[2K\u001b[33m?\u001b[39m allow run: ls";
    expect(printable(forged)).toBe("touch /tmp/x #\\r\\u001b[2K\\u001b[33m?\\u001b[39m allow run: ls");
    expect(printable("a\tb\nc\u007fd\u009be\u2028")).toBe("a\\tb\\nc\\u007fd\\u009be\\u2028");
    expect(printable("plain text, ünïcödé ✓")).toBe("plain text, ünïcödé ✓");
  });
});
