import { Worker } from "node:worker_threads";
import { ToolError } from "@lash/protocol";

/**
 * The worker's code, run with `eval: true` so it needs no file of its own: it loads the same way
 * from the built package and from source under a test runner. It compiles the pattern once and
 * answers, for each batch of lines, the indexes of those that match.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const pattern = new RegExp(workerData.source, workerData.flags);
parentPort.on("message", (message) => {
  const matches = [];
  for (let index = 0; index < message.lines.length; index += 1) {
    if (pattern.test(message.lines[index])) matches.push(index);
  }
  parentPort.postMessage({ id: message.id, matches });
});
`;

interface MatchAnswer {
  readonly id: number;
  readonly matches: number[];
}

/**
 * Tests lines against a model-supplied regular expression in a worker thread, so a pattern with
 * catastrophic backtracking (`^(a+)+$`) cannot block the event loop: the worker is terminated when
 * the deadline passes or the signal aborts, and the search fails with `search_timeout`.
 */
export class RegexLineMatcher {
  private worker: Worker | undefined;
  private nextId = 0;

  /** `timeoutMs` bounds each call of `match` (one file's lines). */
  constructor(
    private readonly source: string,
    private readonly flags: string,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal,
  ) {}

  /** The indexes of the lines that match, in order. */
  async match(lines: readonly string[]): Promise<number[]> {
    this.signal.throwIfAborted();
    this.worker ??= new Worker(WORKER_SOURCE, { eval: true, workerData: { source: this.source, flags: this.flags } });
    const worker = this.worker;
    this.nextId += 1;
    const id = this.nextId;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let onMessage: ((answer: MatchAnswer) => void) | undefined;
    let onError: ((error: Error) => void) | undefined;
    try {
      return await new Promise<number[]>((resolve, reject) => {
        onMessage = (answer: MatchAnswer): void => {
          if (answer.id === id) resolve(answer.matches);
        };
        onError = reject;
        worker.on("message", onMessage);
        worker.on("error", onError);
        timer = setTimeout(
          () =>
            reject(
              new ToolError({
                class: "timeout",
                code: "search_timeout",
                message: `the regular expression took longer than ${this.timeoutMs} ms to match; simplify it (avoid nested repetition such as (a+)+) or search for plain text`,
              }),
            ),
          this.timeoutMs,
        );
        onAbort = () => reject(this.signal.reason);
        this.signal.addEventListener("abort", onAbort, { once: true });
        worker.postMessage({ id, lines });
      });
    } catch (error) {
      // A worker stuck in a backtracking loop never answers again: end it.
      await this.close();
      throw error;
    } finally {
      clearTimeout(timer);
      if (onMessage !== undefined) worker.off("message", onMessage);
      if (onError !== undefined) worker.off("error", onError);
      if (onAbort !== undefined) this.signal.removeEventListener("abort", onAbort);
    }
  }

  /** Ends the worker (terminating it if it is still matching). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
