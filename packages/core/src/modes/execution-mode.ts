import type {
  ApprovalRequest,
  CheckpointKind,
  JsonValue,
  LlmResponse,
  Message,
  ModeSessionExtension,
  ModeTurnExtension,
  PromptContribution,
  SessionEvent,
  ToolCallRecord,
  ToolCallReplay,
  ToolDefinition,
  TurnOutcome,
} from "@lash/protocol";

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

export interface ModePreambleInput {
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
  createDriver(): ProtocolDriver;
  /** Tools the mode itself provides (the standard mode's `batch`). */
  nativeTools?(): readonly ToolDefinition<unknown>[];
  /** Throws to reject a turn's extension (the turn then fails with `mode_turn_extension`). */
  validateTurnExtension?(extension: ModeTurnExtension): void;
  /** Throws to reject a session extension. */
  applySessionExtension?(extension: ModeSessionExtension): void;
  beforeLlmCall?(context: { readonly modeIteration: number }): ModeLlmCallAction | undefined;
  executeCode?(code: string, context: { readonly signal: AbortSignal }): Promise<ExecResult>;
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
