import type { JsonObject, JsonValue } from "../json.js";
import type { Message } from "../messages.js";
import type { SessionPolicy, SessionRelation } from "../session.js";
import type { ToolCallOutput, ToolExecutionMode, ToolFailure, ToolRetryPolicy } from "../tools.js";
import type { AssembledTurn } from "../turn.js";
import type { TurnInput } from "../turn-input.js";

/**
 * The Standard Schema interface (https://standardschema.dev), implemented by zod 4, valibot, arktype
 * and others. Declared here so tool authors can use any of them without lash importing the library.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaV1Result<Output> | Promise<StandardSchemaV1Result<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardSchemaV1Result<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
      }>;
    };

/** A JSON Schema object describing a tool's arguments. */
export type JsonSchemaObject = JsonObject;

/**
 * A tool's input schema: a JSON Schema object (validated by the runtime's JSON Schema validator), or
 * a Standard Schema such as a zod schema (validated by the schema itself; a zod schema is converted
 * to JSON Schema for the model, other libraries need `ToolDefinition.modelInputSchema`).
 */
export type ToolInputSchema<Input> = JsonSchemaObject | StandardSchemaV1<unknown, Input>;

/** A seed message for the first turn of a handoff successor or child session. */
export interface FirstTurnInput {
  /** The text of the first turn's input. */
  readonly content: string;
  /** Images sent with it (raw bytes); absent = none. */
  readonly images?: readonly Uint8Array[];
}

/** A request to create a session managed by the current one (a child, or a handoff successor). */
export interface ChildSessionRequest {
  /** The new session's id; a fresh UUID when absent. Must differ from every managed session. */
  readonly sessionId?: string;
  /** `child` or `handoff` (a handoff successor receives every later turn of its parent). */
  readonly relation: Exclude<SessionRelation, { type: "root" }>;
  /** Start from an empty history (default) or from a copy of the current session's history. */
  readonly start?: "empty" | "current_session";
  /** Messages appended to the new session's history before its first turn. */
  readonly initialMessages?: readonly Message[];
  /** The input of the successor's first turn (required for a handoff followed by the runtime). */
  readonly firstTurnInput?: FirstTurnInput;
  /** Ledger source of the child's usage as seen from the parent (default `"child"`). */
  readonly usageSource?: string;
  /** Policy overrides for the new session (model, prompt, ...). */
  readonly policy?: Partial<Omit<SessionPolicy, "sessionId">>;
}

/** The session operations available to tools and plugins during a turn. */
export interface SessionAccess {
  /** The session the turn runs on. */
  readonly currentSessionId: string;
  /** Creates a managed session and returns its id. */
  createSession(request: ChildSessionRequest): Promise<string>;
  /**
   * Runs one turn on a managed session and returns its result. Its usage is reported live to the
   * parent turn (`child_usage` activities) and lands in the parent's ledger under the child's source.
   */
  runTurn(sessionId: string, input: TurnInput, options?: { readonly signal?: AbortSignal }): Promise<AssembledTurn>;
  /** Forgets a managed session (it must not have a running turn). */
  closeSession(sessionId: string): Promise<void>;
}

/** What a tool sees while it runs. */
export interface ToolContext {
  /** The provider's call id; `undefined` for a call without one (a code-running mode's call). */
  readonly callId: string | undefined;
  /** The name the tool was called by. */
  readonly toolName: string;
  /** The session the turn runs on. */
  readonly sessionId: string;
  /** The turn's index in the session (1 for the first). */
  readonly turnIndex: number;
  /** Aborted when the turn is cancelled or a wall-time budget runs out: stop promptly. */
  readonly signal: AbortSignal;
  /** Child sessions and handoff successors of the current session. */
  readonly sessions: SessionAccess;
}

const toolResultBrand = Symbol.for("lash.tool-result");

/** A branded tool result: a full `ToolCallOutput` (failure, control) instead of a plain value. */
export interface ToolResultEnvelope {
  readonly [toolResultBrand]: true;
  /** The output the call records. */
  readonly output: ToolCallOutput;
}

/** What `execute` may return: a plain JSON value (a success payload) or a `toolResult.*` envelope. */
export type ToolExecuteResult = JsonValue | ToolResultEnvelope;

function envelope(output: ToolCallOutput): ToolResultEnvelope {
  return { [toolResultBrand]: true, output };
}

/** Builders for tool results that carry more than a value. */
export const toolResult = {
  /** A success with an optional terminal control. */
  success(payload: JsonValue, control?: ToolCallOutput["control"]): ToolResultEnvelope {
    return envelope(
      control === undefined ? { outcome: { status: "success", payload } } : { outcome: { status: "success", payload }, control },
    );
  },
  /** Ends the turn with `finished { tool_value }` once the batch completes. */
  finish(value: JsonValue, payload: JsonValue = value): ToolResultEnvelope {
    return envelope({ outcome: { status: "success", payload }, control: { type: "finish", value } });
  },
  /** Hands the conversation off to `sessionId` (a successor created through `context.sessions`). */
  handoff(sessionId: string, payload: JsonValue = { handoff: sessionId }): ToolResultEnvelope {
    return envelope({ outcome: { status: "success", payload }, control: { type: "handoff", sessionId } });
  },
  /** Stops the turn with `stopped { tool_error }` once the batch completes. */
  fail(failure: ToolFailure, payload: JsonValue = null): ToolResultEnvelope {
    return envelope({ outcome: { status: "success", payload }, control: { type: "fail", failure } });
  },
  /** A failed call: the model sees the message and the turn goes on. */
  failure(failure: ToolFailure): ToolResultEnvelope {
    return envelope({ outcome: { status: "failure", payload: failure } });
  },
  /** True when `value` was built by one of these helpers (by any copy of this package). */
  isEnvelope(value: unknown): value is ToolResultEnvelope {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[toolResultBrand] === true;
  },
};

/**
 * Whether a call needs approval, from its validated input. Declared in method form so that a
 * `ToolDefinition<{ path: string }>` stays assignable to `ToolDefinition<unknown>` (method
 * parameters are bivariant; a plain function-typed property would make the input contravariant).
 */
export type ToolApprovalPredicate<Input> = {
  check(input: Input, context: ToolContext): boolean | Promise<boolean>;
}["check"];

/** The line a person sees when asked to approve a call (bivariant, as `ToolApprovalPredicate`). */
export type ToolApprovalDescriber<Input> = {
  describe(input: Input, context: ToolContext): string | Promise<string>;
}["describe"];

/** A tool the model can call. */
export interface ToolDefinition<Input = JsonValue> {
  /** The name the model calls it by: unique across every tool of a turn. */
  readonly name: string;
  /** What it does and when to use it, for the model. */
  readonly description: string;
  /** Validates the arguments (and describes them to the model, see `ToolInputSchema`). */
  readonly inputSchema: ToolInputSchema<Input>;
  /** The JSON Schema the model sees, when `inputSchema` cannot be converted (non-zod Standard Schemas). */
  readonly modelInputSchema?: JsonSchemaObject;
  /** Default `parallel`. */
  readonly executionMode?: ToolExecutionMode;
  /** Default `never`. */
  readonly retryPolicy?: ToolRetryPolicy;
  /**
   * Whether a call must be approved before it runs (default: no). A function receives the validated
   * input; if it throws, the call fails with that error (a `ToolError` keeps its failure) and nobody
   * is asked. The answer comes from the turn's `approve` callback, else the runtime's
   * (`withApprovals`).
   */
  readonly needsApproval?: boolean | ToolApprovalPredicate<Input>;
  /** The line a person sees when asked (`overwrite src/a.ts (120 bytes)`); stored with the request. */
  readonly describeApproval?: ToolApprovalDescriber<Input>;
  /**
   * Runs the tool. Return a JSON value, or a `toolResult.*` envelope; throw a `ToolError` for a
   * structured failure (any other exception becomes an `internal` failure with its message).
   */
  execute(input: Input, context: ToolContext): ToolExecuteResult | Promise<ToolExecuteResult>;
}

/**
 * A source of tools (a static list, an MCP server, a plugin). `listTools` is called once per turn;
 * names must be unique across providers (a duplicate name is a configuration error).
 */
export interface ToolProvider {
  /** The tools offered for the coming turn. A `LashError` thrown here propagates from the turn; any other error ends the turn before its first model call. */
  listTools(): readonly ToolDefinition<unknown>[] | Promise<readonly ToolDefinition<unknown>[]>;
}
