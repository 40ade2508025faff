import type * as Vitest from "vitest";

/** The parts of vitest the provider conformance suite registers tests with. */
export type ProviderConformanceVitestApi = Pick<typeof Vitest, "describe" | "it" | "expect" | "afterEach">;

/**
 * vitest is an optional peer of `@lash/testkit`: a host that only uses `ScriptedProvider` must be
 * able to import the package without vitest installed. So vitest is loaded here, once, with a dynamic
 * import (top-level await: test files call the suite synchronously while they are collected), and a
 * missing vitest only fails when the conformance suite is actually used.
 */
const loaded: { readonly api: ProviderConformanceVitestApi } | { readonly failure: unknown } = await import("vitest").then(
  (module): { readonly api: ProviderConformanceVitestApi } => ({ api: module }),
  (failure: unknown): { readonly failure: unknown } => ({ failure }),
);

/** vitest's test API; throws a readable error when vitest could not be loaded. */
export function providerConformanceVitestApi(): ProviderConformanceVitestApi {
  if ("api" in loaded) return loaded.api;
  throw new Error(
    "The model provider conformance suite needs vitest (an optional peer of @lash/testkit): install it with `pnpm add -D vitest` and run the suite with vitest.",
    { cause: loaded.failure },
  );
}
