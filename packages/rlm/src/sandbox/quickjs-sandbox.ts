import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { JsonValue } from "@lash/protocol";
import type { QuickJSContext, QuickJSDeferredPromise, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";
import { candidateNames, isBindingName } from "./cell-names.js";
import { SANDBOX_PRELUDE } from "./sandbox-prelude.js";
import {
  type LostBinding,
  restoreNote,
  restoreScript,
  SANDBOX_STATE_KIND,
  type SandboxState,
  type SavedBinding,
  snapshotReplySchema,
} from "./sandbox-state.js";

/** QuickJS's `JS_EVAL_FLAG_ASYNC`: a global script that may use top-level `await` and returns a promise. */
const EVAL_GLOBAL_ASYNC = 1 << 7;
/** How much of an error's stack a model reads. */
const MAX_ERROR_CHARACTERS = 2_000;
/** How long the state snapshot and a restore may run (they only read and write plain values). */
const STATE_TIME_MS = 2_000;

/** The limits of one cell. */
export interface SandboxLimits {
  /** Milliseconds of JavaScript execution per cell (time spent waiting for tools is not counted). */
  readonly timeoutMs: number;
  /** Bytes the sandbox's heap may hold. */
  readonly memoryBytes: number;
  /** Bytes of stack (deep recursion ends with a `stack overflow` error). */
  readonly maxStackBytes: number;
  /** Characters of printed output a cell keeps; the rest is dropped with a note. */
  readonly maxOutputCharacters: number;
  /** Tool calls one cell may make (past it, calls fail and the cell is stopped). */
  readonly maxToolCallsPerCell: number;
  /** Bytes of JSON the saved state may hold (values past it are reported lost). */
  readonly maxStateBytes: number;
}

/** What a tool call from a cell answers: a value, or a failure the cell sees as a thrown `ToolError`. */
export type SandboxToolReply =
  | { readonly ok: true; readonly value: JsonValue }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly stopCell?: boolean };

/** What a cell can reach of the host. */
export interface CellHost {
  readonly signal: AbortSignal;
  readonly toolNames: readonly string[];
  callTool(name: string, args: JsonValue): Promise<SandboxToolReply>;
}

/** What one cell did. */
export interface CellResult {
  readonly output: string;
  readonly error?: string;
  readonly submitted?: { readonly value: JsonValue };
  readonly durationMs: number;
}

/** JSON text from inside the sandbox, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… [${text.length - limit} more characters]`;
}

/** An error value from inside the sandbox, as the model reads it. */
function describeError(dumped: unknown): string {
  if (typeof dumped === "object" && dumped !== null) {
    const { name, message, stack } = dumped as { name?: unknown; message?: unknown; stack?: unknown };
    if (typeof message === "string") {
      const head = `${typeof name === "string" ? name : "Error"}: ${message}`;
      const trace = typeof stack === "string" ? stack.split("\n").slice(0, 8).join("\n") : "";
      return truncate(trace === "" ? head : `${head}\n${trace}`, MAX_ERROR_CHARACTERS);
    }
  }
  try {
    return truncate(`Uncaught ${JSON.stringify(dumped)}`, MAX_ERROR_CHARACTERS);
  } catch {
    return truncate(`Uncaught ${String(dumped)}`, MAX_ERROR_CHARACTERS);
  }
}

/**
 * One session's JavaScript sandbox: a QuickJS runtime and context with a persistent global scope.
 * A cell is a global script that may use top-level `await`; its top-level `let`, `const`, `var`,
 * functions and classes stay defined for the next cell. The only ways out are `tools.*`, `print`
 * and `submit`, installed by the prelude.
 */
export class QuickJsSandbox {
  readonly #runtime: QuickJSRuntime;
  readonly #context: QuickJSContext;
  readonly #limits: SandboxLimits;
  readonly #installTools: QuickJSHandle;
  readonly #snapshot: QuickJSHandle;
  /** Names of the fresh context's globals (never saved). */
  readonly #builtins: ReadonlySet<string>;
  /** Names cells may have bound (probed when the state is saved). */
  readonly #names = new Set<string>();
  /** The id of the state this sandbox last saved or was restored from. */
  stateId: string | undefined;
  /** A note for the next cell's output (what a restore could not bring back). */
  #pendingNote: string | undefined;
  #deadline = 0;
  #stopReason: string | undefined;
  #signal: AbortSignal | undefined;
  #host: CellHost | undefined;
  #output: string[] = [];
  #outputLength = 0;
  #outputDropped = 0;
  #submitted: { value: JsonValue } | undefined;
  #toolCalls = 0;
  readonly #pending = new Set<Promise<void>>();
  #disposed = false;

  constructor(module: QuickJSWASMModule, limits: SandboxLimits) {
    this.#limits = limits;
    // Setting up the context runs code too: it gets the same allowance as a state snapshot.
    this.#deadline = performance.now() + STATE_TIME_MS;
    this.#runtime = module.newRuntime();
    this.#runtime.setMemoryLimit(limits.memoryBytes);
    this.#runtime.setMaxStackSize(limits.maxStackBytes);
    this.#runtime.setInterruptHandler(() => this.#shouldInterrupt());
    this.#context = this.#runtime.newContext();
    const context = this.#context;
    const hostCall = context.newFunction("hostCall", (nameHandle, argsHandle) =>
      this.#hostCall(context.getString(nameHandle), context.getString(argsHandle)),
    );
    const hostPrint = context.newFunction("hostPrint", (textHandle) => {
      this.#print(context.getString(textHandle));
    });
    const hostSubmit = context.newFunction("hostSubmit", (textHandle) => this.#submit(context.getString(textHandle)));
    const prelude = context.unwrapResult(context.evalCode(SANDBOX_PRELUDE, "lash-prelude.js"));
    const api = context.unwrapResult(context.callFunction(prelude, context.undefined, hostCall, hostPrint, hostSubmit));
    this.#installTools = context.getProp(api, "installTools");
    this.#snapshot = context.getProp(api, "snapshot");
    for (const handle of [api, prelude, hostCall, hostPrint, hostSubmit]) handle.dispose();
    // Taken after the prelude, so `tools`, `print`, `submit` and `console` are never saved either.
    this.#builtins = new Set(this.#evalJson<string[]>("JSON.stringify(Object.getOwnPropertyNames(globalThis))"));
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Re-creates the saved bindings (each on its own, so one that fails does not take the others
   * with it). The next cell's output starts with a note naming what could not be brought back.
   */
  restore(state: SandboxState): void {
    const restored: SavedBinding[] = [];
    const lost: LostBinding[] = [...state.lost];
    this.#deadline = performance.now() + STATE_TIME_MS;
    for (const binding of state.bindings) {
      if (!isBindingName(binding.name) || this.#builtins.has(binding.name)) continue;
      const result = this.#context.evalCode(restoreScript(binding), "lash-restore.js");
      if (result.error) {
        result.error.dispose();
        lost.push({ name: binding.name, reason: "could not be restored" });
        continue;
      }
      result.value.dispose();
      restored.push(binding);
    }
    for (const binding of [...state.bindings, ...state.lost]) if (isBindingName(binding.name)) this.#names.add(binding.name);
    this.stateId = state.stateId;
    this.#pendingNote = restoreNote(restored, lost);
  }

  /** Runs one cell to its end (or its limit) and reports what it printed, raised and submitted. */
  async run(code: string, host: CellHost): Promise<CellResult> {
    const started = performance.now();
    this.#host = host;
    this.#signal = host.signal;
    this.#output = [];
    this.#outputLength = 0;
    this.#outputDropped = 0;
    this.#submitted = undefined;
    this.#stopReason = undefined;
    this.#toolCalls = 0;
    for (const name of candidateNames(code)) if (!this.#builtins.has(name)) this.#names.add(name);
    const note = this.#pendingNote;
    this.#pendingNote = undefined;
    if (note !== undefined) this.#print(note);
    let error: string | undefined;
    let used = 0;
    try {
      this.#callVoid(this.#installTools, JSON.stringify(host.toolNames));
      const evaluated = this.#enter(used, () => this.#context.evalCode(code, "cell.js", EVAL_GLOBAL_ASYNC));
      used = evaluated.used;
      if (evaluated.result.error) {
        error = this.#takeError(evaluated.result.error);
      } else {
        const settled = await this.#settle(evaluated.result.value, used);
        error = settled;
      }
      // Tool calls the cell left running finish before the cell is reported (the turn's
      // cancellation reaches them), so no result lands in a later cell.
      if (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    } finally {
      this.#host = undefined;
      this.#signal = undefined;
    }
    // `submit` ends the cell by interrupting it: that interruption is the cell's normal end.
    if (this.#submitted !== undefined && this.#stopReason === "submitted") error = undefined;
    else if (this.#stopReason !== undefined && this.#stopReason !== "submitted") error = this.#stopReason;
    if (this.#outputDropped > 0) this.#output.push(`\n[output truncated: ${this.#outputDropped} more characters were printed]`);
    return {
      output: this.#output.join(""),
      ...(error === undefined ? {} : { error }),
      ...(this.#submitted === undefined ? {} : { submitted: this.#submitted }),
      durationMs: Math.round(performance.now() - started),
    };
  }

  /** The global bindings as a saved state (the values that survive a JSON round trip, and the lost ones). */
  saveState(): SandboxState {
    const names = [...this.#names].filter((name) => !this.#builtins.has(name));
    this.#deadline = performance.now() + STATE_TIME_MS;
    this.#stopReason = undefined;
    const reply = this.#callString(this.#snapshot, JSON.stringify(names), this.#limits.maxStateBytes);
    const parsed = reply === undefined ? undefined : snapshotReplySchema.safeParse(parseJson(reply));
    const stateId = randomUUID();
    this.stateId = stateId;
    if (parsed === undefined || !parsed.success) {
      return { kind: SANDBOX_STATE_KIND, version: 1, stateId, bindings: [], lost: names.map((name) => ({ name, reason: "unreadable" })) };
    }
    const bindings = parsed.data.bindings.filter((binding) => isBindingName(binding.name));
    const lost = parsed.data.lost.filter((entry) => isBindingName(entry.name));
    return { kind: SANDBOX_STATE_KIND, version: 1, stateId, bindings, lost };
  }

  /**
   * Drops a sandbox whose engine failed (not a cell: the engine itself) without freeing it: freeing
   * an engine that trapped aborts inside the WebAssembly with a message on stderr. Its memory is its
   * own module instance's, so it goes when nothing refers to the sandbox any more.
   */
  abandon(): void {
    this.#disposed = true;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      this.#installTools.dispose();
      this.#snapshot.dispose();
      this.#context.dispose();
      this.#runtime.dispose();
    } catch {
      // A sandbox whose engine trapped (a host stack overflow inside the WebAssembly) may not free
      // cleanly; its module is dropped with it, so nothing else shares the damage.
    }
  }

  #shouldInterrupt(): boolean {
    if (this.#stopReason !== undefined) return true;
    if (this.#signal?.aborted === true) {
      this.#stopReason = "cancelled: the turn was cancelled while the cell ran";
      return true;
    }
    if (performance.now() > this.#deadline) {
      this.#stopReason ??= `time limit: the cell ran for more than ${this.#limits.timeoutMs} ms of JavaScript execution`;
      return true;
    }
    return false;
  }

  /** Runs `work` inside the sandbox with the cell's remaining execution time; returns the time used. */
  #enter<T>(used: number, work: () => T): { result: T; used: number } {
    const entered = performance.now();
    this.#deadline = entered + Math.max(0, this.#limits.timeoutMs - used);
    const result = work();
    return { result, used: used + (performance.now() - entered) };
  }

  /** Drives the cell's promise: runs pending jobs, waits for tool calls, until it settles. */
  async #settle(promise: QuickJSHandle, initiallyUsed: number): Promise<string | undefined> {
    let used = initiallyUsed;
    try {
      for (;;) {
        const jobs = this.#enter(used, () => this.#runtime.executePendingJobs());
        used = jobs.used;
        if (jobs.result.error) return this.#takeError(jobs.result.error);
        const state = this.#context.getPromiseState(promise);
        if (state.type === "fulfilled") {
          state.value.dispose();
          return undefined;
        }
        if (state.type === "rejected") return this.#takeError(state.error);
        if (this.#stopReason !== undefined) return this.#stopReason;
        if (this.#pending.size === 0) return "the cell awaits a promise that never settles (only tools calls resolve in this sandbox)";
        await this.#waitForHost();
      }
    } finally {
      promise.dispose();
    }
  }

  /** Waits for any tool call to settle, or for the turn to be cancelled. */
  async #waitForHost(): Promise<void> {
    const signal = this.#signal;
    let stopWatching: () => void = () => {};
    const aborted = new Promise<void>((resolve) => {
      if (signal === undefined) return;
      if (signal.aborted) resolve();
      const onAbort = (): void => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      stopWatching = () => signal.removeEventListener("abort", onAbort);
    });
    try {
      await Promise.race([...this.#pending, aborted]);
    } finally {
      stopWatching();
    }
    if (signal?.aborted === true) this.#stopReason ??= "cancelled: the turn was cancelled while the cell ran";
  }

  #hostCall(name: string, argsJson: string): QuickJSHandle {
    const context = this.#context;
    const deferred: QuickJSDeferredPromise = context.newPromise();
    const settle = (reply: SandboxToolReply): void => {
      if (!deferred.alive || this.#disposed) return;
      const text = context.newString(JSON.stringify(reply));
      // Resolving also frees the resolvers; the promise handle itself belongs to the caller.
      deferred.resolve(text);
      text.dispose();
    };
    const pending = this.#toolReply(name, argsJson).then(settle, (error: unknown) =>
      settle({ ok: false, code: "host_error", message: error instanceof Error ? error.message : String(error) }),
    );
    const tracked: Promise<void> = pending.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
    return deferred.handle;
  }

  /** The reply to one tool call from the cell (every reply, a refusal included, arrives asynchronously). */
  async #toolReply(name: string, argsJson: string): Promise<SandboxToolReply> {
    const host = this.#host;
    this.#toolCalls += 1;
    if (host === undefined) return { ok: false, code: "no_cell", message: "tools can only be called while a cell runs" };
    if (this.#toolCalls > this.#limits.maxToolCallsPerCell) {
      const message = `tool call limit: a cell may make at most ${this.#limits.maxToolCallsPerCell} tool calls`;
      this.#stopReason ??= message;
      return { ok: false, code: "tool_call_limit", message };
    }
    let args: JsonValue;
    try {
      args = JSON.parse(argsJson) as JsonValue;
    } catch {
      return { ok: false, code: "invalid_arguments", message: "the arguments are not JSON" };
    }
    const reply = await host.callTool(name, args);
    if (!reply.ok && reply.stopCell === true) this.#stopReason ??= reply.message;
    return reply;
  }

  #print(text: string): void {
    const room = this.#limits.maxOutputCharacters - this.#outputLength;
    const line = this.#output.length === 0 ? text : `\n${text}`;
    if (line.length <= room) {
      this.#output.push(line);
      this.#outputLength += line.length;
      return;
    }
    if (room > 0) {
      this.#output.push(line.slice(0, room));
      this.#outputLength += room;
    }
    this.#outputDropped += line.length - Math.max(0, room);
  }

  #submit(text: string): { error: QuickJSHandle } | undefined {
    if (this.#submitted !== undefined) return { error: this.#context.newError("submit() was already called in this cell") };
    try {
      this.#submitted = { value: JSON.parse(text) as JsonValue };
    } catch {
      return { error: this.#context.newError("submit() needs a JSON value") };
    }
    // The cell ends here: the interrupt handler stops it at its next check.
    this.#stopReason = "submitted";
    return undefined;
  }

  #takeError(handle: QuickJSHandle): string {
    try {
      return describeError(this.#context.dump(handle));
    } finally {
      handle.dispose();
    }
  }

  #evalJson<T>(code: string): T {
    const result = this.#context.unwrapResult(this.#context.evalCode(code, "lash-prelude.js"));
    try {
      return JSON.parse(this.#context.getString(result)) as T;
    } finally {
      result.dispose();
    }
  }

  #callVoid(fn: QuickJSHandle, text: string): void {
    const argument = this.#context.newString(text);
    try {
      this.#deadline = performance.now() + STATE_TIME_MS;
      this.#context.unwrapResult(this.#context.callFunction(fn, this.#context.undefined, argument)).dispose();
    } finally {
      argument.dispose();
    }
  }

  #callString(fn: QuickJSHandle, text: string, limit: number): string | undefined {
    const argument = this.#context.newString(text);
    const maxBytes = this.#context.newNumber(limit);
    try {
      const result = this.#context.callFunction(fn, this.#context.undefined, argument, maxBytes);
      if (result.error) {
        result.error.dispose();
        return undefined;
      }
      try {
        return this.#context.getString(result.value);
      } finally {
        result.value.dispose();
      }
    } finally {
      argument.dispose();
      maxBytes.dispose();
    }
  }
}
