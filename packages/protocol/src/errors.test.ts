import { describe, expect, it } from "vitest";
import {
  CommitIdConflictError,
  HeadRevisionConflictError,
  InvalidPersistedDataError,
  LashError,
  markerFor,
  ProviderCallError,
  RuntimeError,
  SessionBindingMismatchError,
  StoreUnavailableError,
  ToolError,
  UnsupportedReadScopeError,
} from "./index.js";

interface ErrorCase {
  readonly name: string;
  readonly create: () => LashError;
  readonly isInstance: (error: unknown) => boolean;
  readonly code: string;
}

const cases: readonly ErrorCase[] = [
  {
    name: "LashError",
    create: () => new LashError("invalid_argument", "bad argument"),
    isInstance: (error) => LashError.isInstance(error),
    code: "invalid_argument",
  },
  {
    name: "RuntimeError",
    create: () => new RuntimeError("store_commit_failed", "commit failed"),
    isInstance: (error) => RuntimeError.isInstance(error),
    code: "store_commit_failed",
  },
  {
    name: "ProviderCallError",
    create: () =>
      new ProviderCallError({ kind: "http", message: "server error", retryable: true, terminalReason: "provider_error", status: 500 }),
    isInstance: (error) => ProviderCallError.isInstance(error),
    code: "provider_failure",
  },
  {
    name: "ToolError",
    create: () => new ToolError({ code: "not_found", message: "no such file" }),
    isInstance: (error) => ToolError.isInstance(error),
    code: "tool_failure",
  },
  {
    name: "HeadRevisionConflictError",
    create: () => new HeadRevisionConflictError("s", 1, 2),
    isInstance: (error) => HeadRevisionConflictError.isInstance(error),
    code: "head_revision_conflict",
  },
  {
    name: "CommitIdConflictError",
    create: () => new CommitIdConflictError("s", "t:final"),
    isInstance: (error) => CommitIdConflictError.isInstance(error),
    code: "commit_id_conflict",
  },
  {
    name: "SessionBindingMismatchError",
    create: () => new SessionBindingMismatchError("a", "b"),
    isInstance: (error) => SessionBindingMismatchError.isInstance(error),
    code: "session_binding_mismatch",
  },
  {
    name: "UnsupportedReadScopeError",
    create: () => new UnsupportedReadScopeError("active_path"),
    isInstance: (error) => UnsupportedReadScopeError.isInstance(error),
    code: "unsupported_read_scope",
  },
  {
    name: "StoreUnavailableError",
    create: () => new StoreUnavailableError("connection refused"),
    isInstance: (error) => StoreUnavailableError.isInstance(error),
    code: "store_unavailable",
  },
  {
    name: "InvalidPersistedDataError",
    create: () => new InvalidPersistedDataError("s", "graph.nodes.3.payload", "expected object"),
    isInstance: (error) => InvalidPersistedDataError.isInstance(error),
    code: "invalid_persisted_data",
  },
];

describe.each(cases)("$name", ({ name, create, isInstance, code }) => {
  it("isInstance recognises its instances, which are also LashErrors and Errors", () => {
    const error = create();
    expect(isInstance(error)).toBe(true);
    expect(LashError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
  });

  it("isInstance rejects plain errors and non-errors", () => {
    expect(isInstance(new Error("plain"))).toBe(false);
    expect(isInstance(Object.assign(new Error("look-alike"), { code }))).toBe(false);
    expect(isInstance(undefined)).toBe(false);
    expect(isInstance(null)).toBe(false);
    expect(isInstance("error")).toBe(false);
  });

  it("toString() is `code: message`", () => {
    const error = create();
    expect(error.toString()).toBe(`${code}: ${error.message}`);
    expect(String(error)).toBe(`${code}: ${error.message}`);
  });

  it("isInstance accepts an error branded by another copy of the package", () => {
    // Another copy of @lash/protocol has its own classes, but registers the same global symbols.
    const foreign = new Error("from another copy") as Error & Record<symbol, unknown>;
    foreign[Symbol.for("lash.error")] = true;
    if (name !== "LashError") foreign[Symbol.for(markerFor(name))] = true;
    expect(isInstance(foreign)).toBe(true);
    expect(LashError.isInstance(foreign)).toBe(true);
  });
});

describe("error brands", () => {
  it("a subclass's isInstance rejects the other subclasses and the base class", () => {
    const base = new LashError("invalid_argument", "x");
    expect(RuntimeError.isInstance(base)).toBe(false);
    expect(ToolError.isInstance(new RuntimeError("invalid_argument", "x"))).toBe(false);
    expect(HeadRevisionConflictError.isInstance(new CommitIdConflictError("s", "c"))).toBe(false);
    expect(ProviderCallError.isInstance(new ToolError({ code: "c", message: "m" }))).toBe(false);
  });

  it("a subclass brand without the base brand is not recognised", () => {
    const partial = new Error("half branded") as Error & Record<symbol, unknown>;
    partial[Symbol.for(markerFor("ToolError"))] = true;
    expect(ToolError.isInstance(partial)).toBe(false);
  });

  it("keeps the cause", () => {
    const cause = new Error("root cause");
    expect(new RuntimeError("store_commit_failed", "failed", { cause }).cause).toBe(cause);
    expect(new LashError("invalid_argument", "x").cause).toBeUndefined();
  });
});

describe("error details", () => {
  it("HeadRevisionConflictError carries expected and actual, and says `no head` for undefined", () => {
    const error = new HeadRevisionConflictError("s1", undefined, 3);
    expect(error.expected).toBeUndefined();
    expect(error.actual).toBe(3);
    expect(error.sessionId).toBe("s1");
    expect(error.message).toContain("expected no head, actual 3");
    expect(new HeadRevisionConflictError("s1", 2, 3).message).toContain("expected 2, actual 3");
  });

  it("SessionBindingMismatchError names both session ids", () => {
    const error = new SessionBindingMismatchError("bound", "other");
    expect(error).toMatchObject({ boundSessionId: "bound", attemptedSessionId: "other" });
    expect(error.message).toBe("store is already bound to session `bound` and cannot be reused for `other`");
  });

  it("ToolError turns into a tool failure with its class, code and retry hint (defaults internal / never)", () => {
    expect(new ToolError({ code: "c", message: "m" }).toFailure()).toEqual({
      class: "internal",
      code: "c",
      message: "m",
      source: "tool",
      retry: { type: "never" },
    });
    expect(
      new ToolError({ class: "rate_limited", code: "slow_down", message: "later", retry: { type: "safe", afterMs: 10 } }).toFailure(),
    ).toEqual({
      class: "rate_limited",
      code: "slow_down",
      message: "later",
      source: "tool",
      retry: { type: "safe", afterMs: 10 },
    });
  });

  it("ProviderCallError carries its failure and uses its message", () => {
    const failure = { kind: "quota" as const, message: "quota exceeded", retryable: false, terminalReason: "provider_error" as const };
    const error = new ProviderCallError(failure);
    expect(error.failure).toEqual(failure);
    expect(error.message).toBe("quota exceeded");
  });

  it("InvalidPersistedDataError names the session and the path", () => {
    const error = new InvalidPersistedDataError("s1", "graph.nodes.0", "bad");
    expect(error.path).toBe("graph.nodes.0");
    expect(error.message).toBe("invalid persisted data for session `s1` at `graph.nodes.0`: bad");
    expect(new InvalidPersistedDataError(undefined, "", "bad").message).toBe("invalid persisted data at `(root)`: bad");
  });
});
