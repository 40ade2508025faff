import { ScriptedProvider, textStep } from "@lash/testkit";
import { describe, expect, it } from "vitest";
import { createRuntime, echoTool, MODEL } from "../../test/fixtures.js";
import { expectLashError, failureOf } from "../../test/persistence-helpers.js";
import { BATCH_TOOL_NAME, LashRuntime, READ_TOOL_OUTPUT_NAME, RuntimeEnvironment, textInput } from "../index.js";

describe("child sessions with a tool subset", () => {
  it("a child created with `tools` is offered only those tools", async () => {
    const other = { ...echoTool, name: "other_tool" };
    const { runtime, provider } = await createRuntime({ steps: [textStep("child answer")], tools: [echoTool, other] });
    const childId = await runtime.sessions.createSession(
      { sessionId: "child", relation: { type: "child", parentSessionId: "root" } },
      { tools: ["echo_tool"] },
    );
    const turn = await runtime.sessions.runTurn(childId, textInput("task"));
    expect(turn.assistantOutput.safeText).toBe("child answer");
    // The built-in tools stay (the mode's, and the tool-output reader); of the runtime's own tools only the listed one is offered.
    const builtIn = new Set([BATCH_TOOL_NAME, READ_TOOL_OUTPUT_NAME]);
    expect(provider.requests[0]?.tools?.map((tool) => tool.name).filter((name) => !builtIn.has(name))).toEqual(["echo_tool"]);
  });

  it("an unknown tool name is a session_manager error naming it and the available tools", async () => {
    const { runtime } = await createRuntime({ steps: [], tools: [echoTool] });
    const error = expectLashError(
      await failureOf(() =>
        runtime.sessions.createSession(
          { sessionId: "child", relation: { type: "child", parentSessionId: "root" } },
          { tools: ["echo_tool", "nope"] },
        ),
      ),
      "session_manager",
    );
    expect(error.message).toContain("`nope`");
    expect(error.message).toContain("available: `echo_tool`");
    expect(runtime.sessions.sessionIds).toEqual([]);
  });
});

describe("background task host wiring without a host", () => {
  it("a runtime without a host has no background tasks: a clear invalid_configuration error", async () => {
    const { runtime } = await createRuntime({ steps: [] });
    expect(runtime.sessions.backgroundTasks).toBeUndefined();
    const error = expectLashError(await failureOf(() => runtime.backgroundTasks()), "invalid_configuration");
    expect(error.message).toContain("withBackgroundTaskHost");
    expect(RuntimeEnvironment.builder().build().backgroundTaskHost).toBeUndefined();
  });

  it("withBackgroundTaskHost refuses something that is not a host", () => {
    const error = expectLashError(
      (() => {
        try {
          RuntimeEnvironment.builder().withBackgroundTaskHost({} as never);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })(),
      "invalid_configuration",
    );
    expect(error.message).toContain("BackgroundTaskHost");
  });

  it("an environment's host reaches its runtimes; a builder's host overrides it and reaches the runtime's child sessions", async () => {
    const environmentHost = { spawnManaged: () => undefined, closeScope: () => undefined } as never;
    const runtimeHost = { spawnManaged: () => undefined, closeScope: () => undefined } as never;
    const environment = RuntimeEnvironment.builder().withBackgroundTaskHost(environmentHost).build();
    expect(environment.backgroundTaskHost).toBe(environmentHost);
    const shared = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([], { defaultModel: MODEL }))
      .withEnvironment(environment)
      .withPolicy({ model: "m", maxContextTokens: 1000 })
      .build();
    expect(shared.sessions.backgroundTasks).toBeDefined();
    const own = await LashRuntime.builder()
      .withProvider(new ScriptedProvider([], { defaultModel: MODEL }))
      .withEnvironment(environment)
      .withBackgroundTaskHost(runtimeHost)
      .withPolicy({ model: "m", maxContextTokens: 1000 })
      .build();
    const childId = await own.sessions.createSession(
      { sessionId: "child", relation: { type: "child", parentSessionId: "root" } },
      { tools: [] },
    );
    expect(own.sessions.child(childId)?.environment.backgroundTaskHost).toBe(runtimeHost);
  });
});
