import type {
  ApprovalRequest,
  CheckpointKind,
  JsonObject,
  JsonValue,
  LlmResponse,
  LlmToolSpec,
  Message,
  ModeSessionExtension,
  ModeTurnExtension,
  ModeTurnOptions,
  PromptContribution,
  SessionEvent,
  ToolCallRecord,
  ToolCallReplay,
  ToolDefinition,
  TurnOutcome,
} from "@lash/protocol";
import type { LashPlugin } from "../plugins/plugin.js";

/** A tool call the model asked for, as the mode hands it to the runtime. */
export interface PendingToolCall {
  readonly callId: string;
  readonly toolName: string;
  /** The arguments exactly as the model produced them. */
  readonly inputJson: string;
  readonly replay?: ToolCallReplay;
}

/** A call of the batch that waits for an approval decision nobody gave in process. */
export interface PendingApprovalCall {
  /** The call's position in the batch. */
  readonly index: number;
  readonly call: PendingToolCall;
  readonly request: ApprovalRequest;
}

/** A finished tool call: what was recorded, and what the model will see. */
export interface CompletedToolCall {
  readonly call: PendingToolCall;
  readonly record: ToolCallRecord;
  readonly modelText: string;
}

/** The result of one code cell run by a code mode. */
export interface ExecResult {
  readonly output: string;
  readonly error?: string;
  readonly toolCalls: readonly ToolCallRecord[];
  readonly durationMs: number;
  /** Set when the code submitted a final value. */
  readonly submitted?: { readonly value: JsonValue };
  /**
   * The session's execution state after the cell (a code mode's saved sandbox state): it replaces
   * the session's, and the turn's next commit stores it. Absent leaves the session's as it was.
   */
  readonly executionState?: JsonValue;
  /** Set when the cell wanted more tool calls than the turn's budget (`maxToolCalls`) allowed. */
  readonly toolCallBudgetExhausted?: boolean;
}

/** One tool call a code cell made, as the turn's dispatch ran it. */
export interface CodeToolCallResult {
  readonly record: ToolCallRecord;
  /** What the model reads of the result (after projectors and the tool-output budget). */
  readonly modelText: string;
  /** False when the call was not run (the budget was spent before it); such a call is not recorded. */
  readonly ran: boolean;
  /** True when the turn's tool call budget (`maxToolCalls`) is spent: the cell should stop. */
  readonly budgetExhausted: boolean;
}

/** What a code mode's `executeCode` gets from the turn. */
export interface CodeExecutionContext {
  readonly signal: AbortSignal;
  readonly sessionId: string;
  readonly turnId: string;
  readonly turnIndex: number;
  /** The tools code may call (names, descriptions, input schemas), as the turn offers them. */
  readonly tools: readonly LlmToolSpec[];
  /**
   * Runs one tool call through the turn's dispatch: approval gate, plugin hooks, validation, the
   * tool-call budget, and the tool events. A call that needs an approval nobody gives in process
   * fails (a cell cannot wait for a later decision).
   */
  callTool(toolName: string, args: JsonValue): Promise<CodeToolCallResult>;
  /** The session's execution state as last saved (by an earlier cell, a commit, or a restore). */
  readonly executionState: JsonValue | undefined;
}

/** What a mode learns of a turn before it builds the turn's prompt and driver. */
export interface ModeTurnSetup {
  /** The turn's mode options (`TurnInput.modeTurnOptions`, else the session's). */
  readonly modeTurnOptions?: ModeTurnOptions | undefined;
  /** The JSON Schema of the structured output the turn asks for, when it asks for one. */
  readonly outputSchema?: JsonObject | undefined;
}

/** What a checkpoint does when no message was injected: go round again, or finish. */
export type CheckpointOnEmpty = { readonly type: "continue" } | { readonly type: "finish"; readonly outcome: TurnOutcome };

/**
 * What a protocol driver asks the turn machine to do, applied in order. `finish` stops processing
 * the rest of the list.
 */
export type DriverAction =
  | { readonly type: "emit"; readonly event: SessionEvent }
  | { readonly type: "append_messages"; readonly messages: readonly Message[] }
  | { readonly type: "record_mode_event"; readonly event: JsonValue }
  | { readonly type: "start_llm" }
  | { readonly type: "start_tools"; readonly calls: readonly PendingToolCall[] }
  | { readonly type: "start_exec"; readonly code: string }
  | { readonly type: "start_checkpoint"; readonly kind: CheckpointKind; readonly onEmpty: CheckpointOnEmpty }
  | { readonly type: "advance_mode_iteration" }
  | { readonly type: "finish"; readonly outcome: TurnOutcome };

/** What a protocol driver sees of the turn. */
export interface DriverContext {
  /** The turn's conversation so far (history, the user message, everything appended since). */
  readonly messages: readonly Message[];
  readonly modeIteration: number;
  readonly modeRunOffset: number;
  /** The termination policy's `maxModelCalls`, when set. */
  readonly maxModelCalls: number | undefined;
}

/**
 * The mode's protocol: it decides, from each model response and tool result, what happens next.
 * Drivers are pure: no I/O, no clocks; everything they need is in the context.
 */
export interface ProtocolDriver {
  prepareIteration(context: DriverContext): readonly DriverAction[];
  handleLlmSuccess(response: LlmResponse, context: DriverContext & { readonly textStreamed: boolean }): readonly DriverAction[];
  handleToolResults(results: readonly CompletedToolCall[], context: DriverContext): readonly DriverAction[];
  handleExecResult?(result: ExecResult, context: DriverContext): readonly DriverAction[];
}

/** What a mode contributes to the turn's prompt and request shape. */
export interface ModePreamble {
  /** Rendered in the prompt's `## Execution` section. */
  readonly executionPrompt: string;
  readonly promptContributions: readonly PromptContribution[];
  /** Whether requests offer native tools (`toolChoice: "auto"`) or none. */
  readonly useTools: boolean;
  /** Whether the runtime re-syncs the tool surface and prompt at each new mode iteration. */
  readonly syncExecutionSurface: boolean;
}

export interface ModePreambleInput extends ModeTurnSetup {
  readonly toolNames: readonly string[];
}

/** What a mode may do before a model call: nothing, or hand the conversation off. */
export type ModeLlmCallAction = { readonly type: "handoff"; readonly sessionId: string };

/**
 * An execution mode, selected by `SessionPolicy.executionMode`. The turn loop knows modes only
 * through this interface, so a second mode (for example one that runs code cells) plugs in without
 * touching it.
 */
export interface ExecutionMode {
  readonly id: string;
  buildPreamble(input: ModePreambleInput): ModePreamble;
  createDriver(setup?: ModeTurnSetup): ProtocolDriver;
  /** Tools the mode itself provides (the standard mode's `batch`). */
  nativeTools?(): readonly ToolDefinition<unknown>[];
  /** Throws to reject a turn's extension (the turn then fails with `mode_turn_extension`). */
  validateTurnExtension?(extension: ModeTurnExtension): void;
  /** Throws to reject a session extension. */
  applySessionExtension?(extension: ModeSessionExtension): void;
  beforeLlmCall?(context: { readonly modeIteration: number }): ModeLlmCallAction | undefined;
  executeCode?(code: string, context: CodeExecutionContext): Promise<ExecResult>;
  /** The language of the code cells (`code_block_*` events name it; default: the mode's id). */
  readonly codeLanguage?: string;
  /**
   * Whether model calls send the provider's structured-output parameter when a turn asks for
   * output (default true). A mode whose model answers in code, not JSON, sets false and checks the
   * submitted value itself.
   */
  readonly nativeStructuredOutput?: boolean;
  /** Plugins that apply only to this mode's turns (a code mode's stream mask), after the runtime's. */
  readonly plugins?: readonly LashPlugin[];
}

/** A shareable handle around a turn extension. */
export class ModeTurnExtensionHandle {
  constructor(readonly extension: ModeTurnExtension) {}

  /** The extension when it has the given kind. */
  as<T extends ModeTurnExtension>(kind: string): T | undefined {
    return this.extension.kind === kind ? (this.extension as T) : undefined;
  }

  promptContributions(): readonly PromptContribution[] {
    return this.extension.promptContributions?.() ?? [];
  }
}

/** A shareable handle around a session extension. */
export class ModeSessionExtensionHandle {
  constructor(readonly extension: ModeSessionExtension) {}

  as<T extends ModeSessionExtension>(kind: string): T | undefined {
    return this.extension.kind === kind ? (this.extension as T) : undefined;
  }
}
