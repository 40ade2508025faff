import { LashError, type LashErrorOptions, markerFor } from "@lash/protocol";

const marker = markerFor("UsageDecreasedError");
const symbol = Symbol.for(marker);

/**
 * A ledger diff found a `(source, model)` whose count went down between `before` and `after`: the
 * two ledgers are not two points of one session's history (or `before` and `after` were swapped).
 * Code `invalid_argument`.
 */
export class UsageDecreasedError extends LashError {
  readonly [symbol] = true;
  readonly source: string;
  readonly model: string;

  constructor(source: string, model: string, options: LashErrorOptions = {}) {
    super("invalid_argument", `token ledger decreased for source/model (${source}, ${model})`, options);
    this.name = "UsageDecreasedError";
    this.source = source;
    this.model = model;
  }

  static override isInstance(error: unknown): error is UsageDecreasedError {
    return LashError.hasMarker(error, marker);
  }
}
