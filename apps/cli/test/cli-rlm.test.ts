import { describe, expect, it } from "vitest";
import { newSessionId, runLash, temporaryDirectory, writeScript } from "./run-lash.js";

function cell(code: string, prose = "Working on it."): unknown {
  return { text: `${prose}\n\n\`\`\`js\n${code}\n\`\`\`` };
}

describe("lash --mode rlm", () => {
  it("lash demo --mode rlm: the scripted model's cell calls the tool and a second cell submits the answer", async () => {
    const home = await temporaryDirectory();
    const result = await runLash(["demo", "--mode", "rlm"], home);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("▸ javascript cell");
    expect(result.stderr).toContain('⚙ lookup_order {"id":7}');
    expect(result.stderr).toContain("order 7: shipped via DHL on 2026-03-02");
    expect(result.stdout).toContain("Order 7 has shipped: DHL picked it up on 2026-03-02. Order 8 is still packing");
    const listed = await runLash(["sessions", "list", "--json"], home);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ title: "demo (rlm): orders 7 and 8", turns: 1 }]);
  });

  it("lash run --mode rlm runs cells; a continued session keeps its mode and its variables", async () => {
    const home = await temporaryDirectory();
    const first = await writeScript(home, "first", [cell("const answer = 6 * 7;\nsubmit('the answer is ' + answer);")]);
    const run = await runLash(["run", "--mode", "rlm", "--script", first, "compute"], home);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("the answer is 42\n");
    const sessionId = newSessionId(run.stderr);
    // No --mode: the stored session's mode applies, and its sandbox state is restored in this new process.
    const second = await writeScript(home, "second", [cell("submit(answer + 1);")]);
    const again = await runLash(["run", "--session", sessionId, "--script", second, "and one more"], home);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("43\n");
  });

  it("rejects an unknown mode", async () => {
    const home = await temporaryDirectory();
    const result = await runLash(["run", "--mode", "python", "hi"], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--mode.*python.*invalid|Allowed choices are standard, rlm/);
  });
});
