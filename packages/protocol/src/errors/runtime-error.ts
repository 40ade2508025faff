import { LashError, type LashErrorCode, type LashErrorOptions, markerFor } from "./lash-error.js";

const marker = markerFor("RuntimeError");
const symbol = Symbol.for(marker);

/**
 * An unexpected runtime failure: thrown by the runtime only for infrastructure failures such as a
 * failed store commit or a plugin that broke its contract. Model, tool and plugin-abort failures end
 * the turn with a `stopped` outcome instead.
 */
export class RuntimeError extends LashError {
  readonly [symbol] = true;

  constructor(code: LashErrorCode, message: string, options: LashErrorOptions = {}) {
    super(code, message, options);
    this.name = "RuntimeError";
  }

  static override isInstance(error: unknown): error is RuntimeError {
    return LashError.hasMarker(error, marker);
  }
}
