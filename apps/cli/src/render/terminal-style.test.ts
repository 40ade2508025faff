import { describe, expect, it } from "vitest";
import { styleFor } from "./terminal-style.js";

describe("styleFor", () => {
  it("colours a terminal", () => {
    expect(styleFor({ isTTY: true }, {}).red("x")).toBe("\u001b[31mx\u001b[39m");
  });

  it("never colours a pipe, or a terminal with NO_COLOR or TERM=dumb", () => {
    expect(styleFor({ isTTY: false }, {}).red("x")).toBe("x");
    expect(styleFor({ isTTY: true }, { NO_COLOR: "1" }).red("x")).toBe("x");
    expect(styleFor({ isTTY: true }, { TERM: "dumb" }).enabled).toBe(false);
  });
});
