import { describe, expect, it } from "vitest";
import { newSessionId, runLash, startLash, temporaryDirectory, waitFor, writeScript } from "./run-lash.js";

describe("two processes writing the same session", () => {
  it("the run whose final commit conflicts says its answer was shown but NOT stored, and how to retry (exit 1)", async () => {
    const home = await temporaryDirectory();
    const words = Array.from({ length: 30 }, (_, index) => `w${index + 1}`).join(" ");
    const slow = await writeScript(home, "slow", [{ text: words, chunks: 30, chunkDelayMs: 100 }]);
    const quick = await writeScript(home, "quick", [{ text: "The other writer's answer." }]);
    const sessionId = newSessionId((await runLash(["run", "--script", quick, "Start"], home)).stderr);

    // A streams slowly; while it does, B runs a whole turn on the same session and commits first.
    const first = startLash(["run", "--session", sessionId, "--script", slow, "Count slowly"], home);
    await waitFor(first.stdout, (text) => text.includes("w2"));
    const second = await runLash(["run", "--session", sessionId, "--script", quick, "Interrupt"], home);
    expect(second.code).toBe(0);
    const result = await first.result;

    // The answer was on stdout, whole; stderr says it is not in the store and how to run it again.
    expect(result.stdout).toBe(`${words}\n`);
    expect(result.stderr).toContain(
      `lash: error: the answer above was shown but NOT stored: another process wrote to session ${sessionId} while this turn ran`,
    );
    expect(result.stderr).toContain(`lash run --session ${sessionId} "<prompt>"`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(1);

    // The store kept the other writer's turn, and none of this one's answer.
    const shown = await runLash(["sessions", "show", sessionId], home);
    expect(shown.stdout).toContain("Interrupt");
    expect(shown.stdout).not.toContain("w30");
  });
});
