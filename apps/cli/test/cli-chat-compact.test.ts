import { describe, expect, it } from "vitest";
import { runLash, temporaryDirectory, writeScript } from "./run-lash.js";

describe("lash chat /compact", () => {
  it("summarizes older history on demand, counts it under compaction, and the chat goes on from the summary", async () => {
    const home = await temporaryDirectory();
    const script = await writeScript(home, "compact", [
      { text: "Noted: blue.", usage: { input: 30, output: 4 } },
      { text: "Noted: Tom.", usage: { input: 40, output: 4 } },
      { text: "The user's colour is blue.", usage: { input: 120, output: 9 } },
      { text: "Your cat is Tom and your colour is blue.", usage: { input: 50, output: 10 } },
    ]);
    const input = ["/compact", "My colour is blue.", "My cat is Tom.", "/compact", "What do you know?", "/usage", "/exit", ""].join("\n");
    const result = await runLash(["chat", "--script", script], home, { input });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("nothing to compact: the first prompt starts the session\n");
    expect(result.stdout).toMatch(/compacted: 2 older messages summarized, 2 kept \(about \d+ → \d+ tokens; 129 tokens spent\)/);
    expect(result.stdout).toContain("Your cat is Tom and your colour is blue.\n");
    expect(result.stdout).toMatch(/compaction\s+scripted-model\s+120\s+0\s+9\s/);
  });
});
