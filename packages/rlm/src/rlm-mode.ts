import type { CodeExecutionContext, ExecResult, ExecutionMode, ModePreamble, ModeTurnSetup, ProtocolDriver } from "@lash/core";
import type { JsonValue, ToolCallRecord } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { createRlmProtocolDriver } from "./rlm-driver.js";
import { decodeTermination, RLM_MODE_ID, type RlmModeOptions, type RlmTermination, resolveLimits } from "./rlm-options.js";
import { rlmExecutionPrompt } from "./rlm-prompt.js";
import { loadQuickJsModule } from "./sandbox/quickjs-module.js";
import { type CellHost, QuickJsSandbox, type SandboxLimits, type SandboxToolReply } from "./sandbox/quickjs-sandbox.js";
import { readSandboxState, sandboxStateValue } from "./sandbox/sandbox-state.js";
import { createRlmStreamMask } from "./stream-mask.js";

/** The RLM mode: an `ExecutionMode` plus what a host may do with its sandboxes. */
export interface RlmMode extends ExecutionMode {
  readonly id: typeof RLM_MODE_ID;
  /** The limits every cell runs under. */
  readonly limits: SandboxLimits;
  /** How many session sandboxes are alive now. */
  readonly liveSandboxes: number;
  /** Closes one session's sandbox (its saved state stays with the session; the next cell restores it). */
  releaseSession(sessionId: string): void;
  /** Closes every sandbox. The mode stays usable: the next cell of a session restores its saved state. */
  dispose(): void;
}

/** What the model reads of a tool call's result inside a cell. */
function replyOf(record: ToolCallRecord, budgetExhausted: boolean): SandboxToolReply {
  const { outcome } = record.output;
  if (outcome.status === "success") return { ok: true, value: outcome.payload };
  if (outcome.status === "failure") {
    return { ok: false, code: outcome.payload.code, message: outcome.payload.message, stopCell: budgetExhausted };
  }
  return { ok: false, code: budgetExhausted ? "budget_exhausted" : "cancelled", message: outcome.payload.message, stopCell: true };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Creates the RLM execution mode. Register it on a runtime or environment with
 * `withMode(createRlmMode())` and select it with the session policy's `executionMode: "rlm"`.
 * Each session gets its own QuickJS WebAssembly module, runtime and context (about 10 ms to start),
 * with its own memory limit.
 */
export function createRlmMode(options: RlmModeOptions = {}): RlmMode {
  const limits = resolveLimits(options.limits);
  const languageTags = options.languageTags ?? ["js", "javascript"];
  if (languageTags.length === 0 || languageTags.some((tag) => !/^[A-Za-z0-9_+.-]+$/.test(tag))) {
    throw new LashError("invalid_configuration", "rlm languageTags must be one or more fence tags (letters, digits, _ + . -)");
  }
  const fallback: RlmTermination = options.termination ?? { kind: "submit_required" };
  const maxLive = options.maxLiveSandboxes ?? 16;
  const maskStream = options.maskStream ?? true;
  const tag = languageTags[0] as string;
  /** Live sandboxes by session id, least recently used first. */
  const sandboxes = new Map<string, QuickJsSandbox>();

  const plugins = maskStream ? [createRlmStreamMask(languageTags)] : [];

  function release(sessionId: string): void {
    const sandbox = sandboxes.get(sessionId);
    sandboxes.delete(sessionId);
    sandbox?.dispose();
  }

  /**
   * The session's sandbox, as its saved state says: the live one when it produced that state, else
   * a fresh one restored from it (after a restart, a park, an eviction or a branch).
   */
  async function sandboxFor(sessionId: string, executionState: JsonValue | undefined): Promise<QuickJsSandbox> {
    const saved = readSandboxState(executionState);
    const live = sandboxes.get(sessionId);
    if (live !== undefined && !live.disposed && live.stateId === saved?.stateId) {
      sandboxes.delete(sessionId);
      sandboxes.set(sessionId, live);
      return live;
    }
    release(sessionId);
    // One WebAssembly module per sandbox: a trap inside one engine (a stack overflow in native
    // recursion unwinds through the WebAssembly) cannot leave another session's engine damaged.
    const sandbox = new QuickJsSandbox(await loadQuickJsModule(limits.memoryBytes), limits);
    if (saved !== undefined) sandbox.restore(saved);
    sandboxes.set(sessionId, sandbox);
    while (sandboxes.size > maxLive) {
      const oldest = sandboxes.keys().next().value;
      if (oldest === undefined) break;
      release(oldest);
    }
    return sandbox;
  }

  async function executeCode(code: string, context: CodeExecutionContext): Promise<ExecResult> {
    const started = performance.now();
    const toolCalls: ToolCallRecord[] = [];
    let budgetExhausted = false;
    const host: CellHost = {
      signal: context.signal,
      toolNames: context.tools.map((tool) => tool.name),
      async callTool(name, args) {
        const result = await context.callTool(name, args);
        if (result.ran) toolCalls.push(result.record);
        if (result.budgetExhausted) budgetExhausted = true;
        return replyOf(result.record, result.budgetExhausted);
      },
    };
    let sandbox: QuickJsSandbox | undefined;
    try {
      sandbox = await sandboxFor(context.sessionId, context.executionState);
      const cell = await sandbox.run(code, host);
      const state = sandbox.saveState();
      return {
        output: cell.output,
        ...(cell.error === undefined ? {} : { error: cell.error }),
        toolCalls,
        durationMs: cell.durationMs,
        ...(cell.submitted === undefined ? {} : { submitted: cell.submitted }),
        executionState: sandboxStateValue(state),
        ...(budgetExhausted ? { toolCallBudgetExhausted: true } : {}),
      };
    } catch (error) {
      // A failure of the engine itself (not of the cell): the sandbox is dropped unfreed, the
      // session's saved state is kept, and the next cell starts from it.
      const failed = sandboxes.get(context.sessionId);
      sandboxes.delete(context.sessionId);
      failed?.abandon();
      return {
        output: "",
        error: `the sandbox failed and was reset to the state saved before this cell: ${errorMessage(error)}`,
        toolCalls,
        durationMs: Math.round(performance.now() - started),
        ...(budgetExhausted ? { toolCallBudgetExhausted: true } : {}),
      };
    }
  }

  return {
    id: RLM_MODE_ID,
    limits,
    get liveSandboxes() {
      return sandboxes.size;
    },
    buildPreamble(input): ModePreamble {
      const termination = decodeTermination(input.modeTurnOptions, fallback);
      const outputSchema = input.outputSchema ?? (termination.kind === "submit_required" ? termination.schema : undefined);
      return {
        executionPrompt: rlmExecutionPrompt({ tag, toolNames: input.toolNames, termination, outputSchema, limits }),
        promptContributions: [],
        useTools: false,
        syncExecutionSurface: false,
      };
    },
    createDriver(setup: ModeTurnSetup = {}): ProtocolDriver {
      return createRlmProtocolDriver({
        termination: decodeTermination(setup.modeTurnOptions, fallback),
        outputSchema: setup.outputSchema,
        languageTags,
        maskStream,
      });
    },
    executeCode,
    codeLanguage: "javascript",
    nativeStructuredOutput: false,
    plugins,
    releaseSession: release,
    dispose(): void {
      for (const sessionId of [...sandboxes.keys()]) release(sessionId);
    },
  };
}
