import type { ProviderFailure } from "../provider-schemas.js";
import { LashError, type LashErrorOptions, markerFor } from "./lash-error.js";

const marker = markerFor("ProviderCallError");
const symbol = Symbol.for(marker);

/**
 * Thrown by a `ModelProvider` when a call fails. It carries the classified `ProviderFailure`, which
 * decides retries (`retryable`, `retryAfterMs`) and the turn's terminal reason. A provider that
 * throws anything else is treated as an `unknown` failure with the error's message.
 */
export class ProviderCallError extends LashError {
  readonly [symbol] = true;
  readonly failure: ProviderFailure;

  constructor(failure: ProviderFailure, options: LashErrorOptions = {}) {
    super("provider_failure", failure.message, options);
    this.name = "ProviderCallError";
    this.failure = failure;
  }

  static override isInstance(error: unknown): error is ProviderCallError {
    return LashError.hasMarker(error, marker);
  }
}
