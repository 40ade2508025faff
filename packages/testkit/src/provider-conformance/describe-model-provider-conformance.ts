import { bundledWireScriptsDirectory } from "../wire-script/bundled-wire-scripts.js";
import { loadWireScripts } from "../wire-script/load-wire-scripts.js";
import type { WireScript } from "../wire-script/wire-script-schema.js";
import {
  checkAbortBeforeCall,
  checkAbortMidStream,
  checkDisconnectScript,
  checkHttpErrorScript,
  checkProviderShape,
  checkSuccessScript,
  checkTimeoutScript,
  ignoredMatchersFor,
} from "./conformance-checks.js";
import type { ModelProviderConformanceHarness } from "./harness.js";
import { isStreamed, scriptCategory } from "./script-analysis.js";
import { providerConformanceVitestApi } from "./vitest-api.js";

/** Per-test limit: a timeout test waits for the adapter's own (short) timeout and the socket to close. */
const TEST_TIMEOUT_MS = 20_000;

async function scriptsOf(harness: ModelProviderConformanceHarness): Promise<WireScript[]> {
  const source = harness.scripts ?? bundledWireScriptsDirectory();
  const all = typeof source === "string" ? await loadWireScripts(source) : [...source];
  const kinds = new Set(harness.providerKinds);
  return all.filter((script) => kinds.has(script.provider_kind));
}

function titleSuffix(harness: ModelProviderConformanceHarness, script: WireScript): string {
  const ignored = ignoredMatchersFor(harness, script.name);
  return ignored.length === 0 ? "" : ` (not enforcing ${ignored.join(", ")})`;
}

function scriptTitle(script: WireScript): string {
  const expectation = script.expected_provider ?? {};
  switch (scriptCategory(script)) {
    case "success": {
      const details = [
        expectation.terminal_reason === undefined ? undefined : `terminal reason ${expectation.terminal_reason}`,
        expectation.text === undefined ? undefined : "text",
        expectation.tool_names === undefined ? undefined : `tools ${expectation.tool_names.join(", ")}`,
        "usage",
      ].filter((detail): detail is string => detail !== undefined);
      return `maps the response (${details.join(", ")})`;
    }
    case "http_error": {
      const status = script.timeline.find((event) => event.event === "http_error");
      return `maps HTTP ${status?.event === "http_error" ? status.status : "error"} to a classified ProviderCallError after one attempt`;
    }
    case "disconnect":
      return "maps a dropped connection to a retryable transport failure";
    case "response_start_timeout":
      return "fires requestTimeoutMs as a retryable timeout failure and closes the connection";
    case "chunk_timeout":
      return "fires chunkTimeoutMs as a retryable timeout failure and closes the connection";
  }
}

/**
 * Registers the model provider conformance suite for one adapter: call it at the top level of a
 * vitest test file. For every wire script of `harness.providerKinds` it starts a wire-script server,
 * builds the adapter against it with `harness.createProvider`, makes one call and checks what the
 * adapter produced against the script:
 * - success scripts: the request matched, one HTTP attempt, valid stream events streamed before the
 *   final response, text parts and deltas consistent with `fullText` (and no UTF-8 split damage),
 *   `expected_provider` (terminal reason, text, tool names with valid JSON arguments), and usage;
 * - HTTP errors: a `ProviderCallError` whose failure is classified like `providerFailureFromHttp`
 *   (kind, retryable, status, `retryAfterMs`), after exactly one attempt;
 * - a dropped connection: a retryable `transport` (or `stream`) failure;
 * - timeouts: with a short `requestTimeoutMs` or `chunkTimeoutMs`, a retryable `timeout` failure,
 *   and the connection closed.
 * It also checks the adapter's shape and cancellation: a signal aborted mid-stream rejects the call
 * with the signal's reason (or an `AbortError`) and the server sees the socket close; a signal
 * aborted before the call sends nothing.
 *
 * @example
 * describeModelProviderConformance({
 *   name: "my adapter",
 *   providerKinds: ["openai-compatible"],
 *   createProvider: ({ baseUrl, timeouts }) => createMyProvider({ baseUrl, apiKey: "test-key", timeouts }),
 *   ignoredRequestMatchers: { "*": ["body.stream"] },
 * });
 */
export function describeModelProviderConformance(harness: ModelProviderConformanceHarness): void {
  const { describe, it } = providerConformanceVitestApi();
  describe(`ModelProvider conformance: ${harness.name}`, async () => {
    const scripts = await scriptsOf(harness);
    const excluded = harness.excludedScripts ?? {};
    const included = scripts.filter((script) => !Object.hasOwn(excluded, script.name));
    if (scripts.length === 0) {
      it("has wire scripts to run", () => {
        throw new Error(`no wire script has a provider_kind among ${JSON.stringify(harness.providerKinds)}`);
      });
      return;
    }
    const first = included[0] ?? scripts[0];
    if (first !== undefined) it("implements the ModelProvider shape", () => checkProviderShape(harness, first), TEST_TIMEOUT_MS);

    for (const script of scripts) {
      describe(`script ${script.name}`, () => {
        if (Object.hasOwn(excluded, script.name)) {
          it.skip(`excluded by the harness: ${excluded[script.name] ?? ""}`, () => {});
          return;
        }
        const title = `${scriptTitle(script)}${titleSuffix(harness, script)}`;
        const check = {
          success: checkSuccessScript,
          http_error: checkHttpErrorScript,
          disconnect: checkDisconnectScript,
          response_start_timeout: checkTimeoutScript,
          chunk_timeout: checkTimeoutScript,
        }[scriptCategory(script)];
        it(title, () => check(harness, script), TEST_TIMEOUT_MS);
      });
    }

    describe("cancellation", () => {
      const streamed = included.find((script) => scriptCategory(script) === "success" && isStreamed(script));
      if (streamed === undefined) {
        it.skip("aborting mid-stream: no streamed success script among the scripts", () => {});
      } else {
        it(
          `an abort mid-stream rejects with the abort and closes the connection at once (${streamed.name})${titleSuffix(harness, streamed)}`,
          () => checkAbortMidStream(harness, streamed),
          TEST_TIMEOUT_MS,
        );
      }
      const any = streamed ?? first;
      if (any !== undefined) {
        it(
          `a signal aborted before the call rejects with the abort and sends nothing (${any.name})`,
          () => checkAbortBeforeCall(harness, any),
          TEST_TIMEOUT_MS,
        );
      }
    });
  });
}
