import { LashError } from "@lash/protocol";
import { describe, expect, it } from "vitest";
import { DEFAULT_PROVIDER_TIMEOUTS, type ProviderTimeouts, resolveProviderTimeouts } from "./provider-timeouts.js";

function configurationError(run: () => unknown): LashError {
  try {
    run();
  } catch (error) {
    if (LashError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected resolveProviderTimeouts to throw");
}

describe("resolveProviderTimeouts", () => {
  it("defaults to 300 s for the response to start and 120 s between two chunks", () => {
    expect(DEFAULT_PROVIDER_TIMEOUTS).toEqual({ requestTimeoutMs: 300_000, chunkTimeoutMs: 120_000 });
    expect(resolveProviderTimeouts()).toEqual(DEFAULT_PROVIDER_TIMEOUTS);
    expect(resolveProviderTimeouts({})).toEqual(DEFAULT_PROVIDER_TIMEOUTS);
  });

  it("fills missing fields from the defaults and keeps null as disabled", () => {
    expect(resolveProviderTimeouts({ chunkTimeoutMs: 5_000 })).toEqual({ requestTimeoutMs: 300_000, chunkTimeoutMs: 5_000 });
    expect(resolveProviderTimeouts({ requestTimeoutMs: null, chunkTimeoutMs: null })).toEqual({
      requestTimeoutMs: null,
      chunkTimeoutMs: null,
    });
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2_147_483_648, "100"])("rejects %s naming the field", (value) => {
    const error = configurationError(() => resolveProviderTimeouts({ requestTimeoutMs: value } as unknown as Partial<ProviderTimeouts>));
    expect(error.code).toBe("invalid_configuration");
    expect(error.message).toContain("requestTimeoutMs");
  });

  it("names the chunk timeout when it is the bad one", () => {
    const error = configurationError(() => resolveProviderTimeouts({ chunkTimeoutMs: -5 }));
    expect(error.message).toContain("chunkTimeoutMs");
    expect(error.message).toContain("-5");
  });

  it("rejects an unknown (misspelt) field", () => {
    const error = configurationError(() => resolveProviderTimeouts({ requestTimeout: 10 } as unknown as Partial<ProviderTimeouts>));
    expect(error.code).toBe("invalid_configuration");
    expect(error.message).toContain('"requestTimeout"');
  });

  it("rejects a value that is not an object", () => {
    const error = configurationError(() => resolveProviderTimeouts(5 as unknown as Partial<ProviderTimeouts>));
    expect(error.code).toBe("invalid_configuration");
  });
});
