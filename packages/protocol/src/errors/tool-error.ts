import type { ToolFailure, ToolFailureClass, ToolRetryHint } from "../tools.js";
import { LashError, type LashErrorOptions, markerFor } from "./lash-error.js";

const marker = markerFor("ToolError");
const symbol = Symbol.for(marker);

/**
 * Thrown by a tool to report a structured failure. The call ends with `status: "failure"` and the
 * model sees the message; the turn goes on.
 */
export class ToolError extends LashError {
  readonly [symbol] = true;
  readonly failureClass: ToolFailureClass;
  readonly failureCode: string;
  readonly retry: ToolRetryHint;

  constructor(details: { class?: ToolFailureClass; code: string; message: string; retry?: ToolRetryHint }, options: LashErrorOptions = {}) {
    super("tool_failure", details.message, options);
    this.name = "ToolError";
    this.failureClass = details.class ?? "internal";
    this.failureCode = details.code;
    this.retry = details.retry ?? { type: "never" };
  }

  /** The failure as recorded in the tool call output. */
  toFailure(): ToolFailure {
    return {
      class: this.failureClass,
      code: this.failureCode,
      message: this.message,
      source: "tool",
      retry: this.retry,
    };
  }

  static override isInstance(error: unknown): error is ToolError {
    return LashError.hasMarker(error, marker);
  }
}
