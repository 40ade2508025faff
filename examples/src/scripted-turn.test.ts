import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const examples = fileURLToPath(new URL("..", import.meta.url));

describe("the library demo (`pnpm --filter @lash/examples demo`)", () => {
  // A child process that loads TypeScript through tsx: generous on a loaded machine (no time is asserted).
  it("runs a real scripted turn with a tool round trip and prints its activities and result", { timeout: 120_000 }, () => {
    const output = execFileSync("pnpm", ["exec", "tsx", "--conditions=@lash/source", "src/scripted-turn.ts"], {
      cwd: examples,
      encoding: "utf8",
    });
    expect(output).toContain('tool_call_started      add({"a":2,"b":3})');
    expect(output).toContain('"payload":{"sum":5}');
    const assembled = JSON.parse(
      output.slice(output.indexOf("== assembled turn") + "== assembled turn".length, output.indexOf("== committed")),
    );
    expect(assembled.outcome).toEqual({ type: "finished", finish: { type: "assistant_message", text: "2 + 3 = 5." } });
    expect(assembled.toolCalls[0].output.outcome.payload).toEqual({ sum: 5 });
    expect(output).toMatch(/== committed: head revision \d+, 5 nodes/);
  });
});
