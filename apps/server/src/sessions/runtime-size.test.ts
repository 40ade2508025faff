import { ScriptedProvider, textStep } from "@lash/adapter-scripted";
import { InMemorySessionDatabase, LashRuntime } from "@lash/core";
import { describe, expect, it } from "vitest";
import { estimateRuntimeBytes, RUNTIME_BASE_BYTES } from "./runtime-size.js";

async function runtimeOn(database: InMemorySessionDatabase, provider: ScriptedProvider): Promise<LashRuntime> {
  return LashRuntime.builder().withSessionId("s").withModel("m").withProvider(provider).withStore(database.openSession("s")).build();
}

describe("estimateRuntimeBytes", () => {
  it("grows with the path, counts only new messages again, and follows a branch back", async () => {
    const database = new InMemorySessionDatabase();
    const provider = new ScriptedProvider([textStep("first answer"), textStep("x".repeat(10_000)), textStep("short")]);
    const runtime = await runtimeOn(database, provider);
    const empty = estimateRuntimeBytes(runtime);
    expect(empty.bytes).toBe(RUNTIME_BASE_BYTES + 64);
    await runtime.runTurn("first question");
    const afterOne = estimateRuntimeBytes(runtime, empty);
    await runtime.runTurn("second question");
    const afterTwo = estimateRuntimeBytes(runtime, afterOne);
    // The 10,000-character answer at two bytes a character.
    expect(afterTwo.bytes - afterOne.bytes).toBeGreaterThan(20_000);
    // From scratch, the same figure as from the last estimate.
    expect(estimateRuntimeBytes(runtime).bytes).toBe(afterTwo.bytes);
    expect(estimateRuntimeBytes(await runtimeOn(database, provider)).bytes).toBe(afterTwo.bytes);
    // Back before the second question, and a new branch as long as the old path with a short
    // answer (no estimate in between): counted again, not taken for the old path.
    const userMessage = (text: string) =>
      runtime.activeMessages().find((message) => message.role === "user" && JSON.stringify(message).includes(text));
    runtime.branchBeforeMessage(userMessage("second question")?.id ?? "");
    await runtime.runTurn("another second question");
    const branched = estimateRuntimeBytes(runtime, afterTwo);
    expect(branched.bytes).toBeLessThan(afterTwo.bytes - 15_000);
    expect(estimateRuntimeBytes(await runtimeOn(database, provider)).bytes).toBe(branched.bytes);
    // Back before that one: the path as it was after the first turn.
    runtime.branchBeforeMessage(userMessage("another second question")?.id ?? "");
    expect(estimateRuntimeBytes(runtime, branched).bytes).toBe(afterOne.bytes);
  });
});
