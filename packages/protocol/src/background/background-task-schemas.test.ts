import { describe, expect, it } from "vitest";
import { LashError } from "../errors/lash-error.js";
import {
  BackgroundTaskConflictError,
  BackgroundTaskHostClosedError,
  BackgroundTaskTransitionError,
  BackgroundTaskUnsupportedError,
  parseBackgroundTaskArgument,
  UnknownBackgroundTaskError,
} from "./background-task-errors.js";
import {
  backgroundTaskEventSchema,
  backgroundTaskRegisterRequestSchema,
  backgroundTaskRegistrationSchema,
  backgroundTaskUpdateSchema,
} from "./background-task-schemas.js";

describe("background task schemas", () => {
  it("a registration gets the default policies; a register request needs a scope", () => {
    expect(backgroundTaskRegistrationSchema.parse({ id: "t", kind: "monitor", producer: "p" })).toEqual({
      id: "t",
      kind: "monitor",
      producer: "p",
      cancelPolicy: "cooperative",
      closePolicy: "keep",
    });
    expect(backgroundTaskRegisterRequestSchema.safeParse({ id: "t", kind: "monitor", producer: "p" }).success).toBe(false);
  });

  it("an update cannot name a terminal state (endings go through complete)", () => {
    expect(backgroundTaskUpdateSchema.safeParse({ state: "completed" }).success).toBe(false);
    expect(backgroundTaskUpdateSchema.parse({ state: "cancel_requested", progress: "x" })).toEqual({
      state: "cancel_requested",
      progress: "x",
    });
  });

  it("events are a closed union keyed by type, each carrying the record", () => {
    expect(backgroundTaskEventSchema.safeParse({ type: "exploded", taskId: "t" }).success).toBe(false);
    expect(backgroundTaskEventSchema.safeParse({ type: "progress", taskId: "t", message: "m" }).success).toBe(false);
  });
});

describe("background task errors", () => {
  it("are LashErrors with stable codes, recognised by isInstance across copies", () => {
    const transition = new BackgroundTaskTransitionError("t", "completed", "running");
    expect(transition).toMatchObject({ code: "invalid_argument", taskId: "t", from: "completed", to: "running" });
    expect(transition.message).toBe("background task `t` cannot move from `completed` to `running`");
    expect(BackgroundTaskTransitionError.isInstance(transition)).toBe(true);
    expect(UnknownBackgroundTaskError.isInstance(transition)).toBe(false);
    expect(new UnknownBackgroundTaskError("t").code).toBe("invalid_argument");
    expect(new BackgroundTaskConflictError("t", "s1").message).toContain("session `s1`");
    expect(new BackgroundTaskHostClosedError("register a task").code).toBe("invalid_configuration");
    expect(BackgroundTaskUnsupportedError.isInstance(new BackgroundTaskUnsupportedError("spawnManaged", "work runs in workers"))).toBe(
      true,
    );
    expect(LashError.isInstance(new UnknownBackgroundTaskError("t"))).toBe(true);
  });

  it("parseBackgroundTaskArgument names the argument and every offending field", () => {
    let caught: unknown;
    try {
      parseBackgroundTaskArgument(
        backgroundTaskRegisterRequestSchema,
        { id: "", kind: "bogus", producer: "p", scope: { sessionId: "s" } },
        "register request",
      );
    } catch (error) {
      caught = error;
    }
    expect(LashError.isInstance(caught) && caught.code).toBe("invalid_argument");
    const message = (caught as Error).message;
    expect(message).toMatch(/^invalid register request: /);
    expect(message).toContain("id:");
    expect(message).toContain("kind:");
  });
});
