import type { LlmRequest, ModelProvider } from "@lash/protocol";
import type { ProviderTimeouts } from "@lash/provider-utils";
import type { WireScript } from "../wire-script/wire-script-schema.js";

/** What the suite hands the harness to build one adapter instance. */
export interface ConformanceProviderOptions {
  /** The wire-script server's address (`http://127.0.0.1:<port>`, no trailing slash and no path). */
  readonly baseUrl: string;
  /**
   * The timeouts the adapter must enforce for this test. The timeout tests use a small one for the
   * timeout under test and a generous one for the other; every other test uses generous ones.
   */
  readonly timeouts: ProviderTimeouts;
  /** The script the server plays (to pick an API mode or credentials per script, when needed). */
  readonly script: WireScript;
}

/** How the model provider conformance suite reaches an adapter. */
export interface ModelProviderConformanceHarness {
  /** Shown in the suite's title, for example `"@lash/adapter-openai (chat completions)"`. */
  readonly name: string;
  /** The `provider_kind`s of the scripts the adapter speaks (`"openai-compatible"`, `"anthropic"`, ...). */
  readonly providerKinds: readonly string[];
  /**
   * The scripts to serve: a folder of `*.json` wire scripts, or scripts already loaded. Default: the
   * scripts bundled with `@lash/testkit` (`bundledWireScriptsDirectory()`).
   */
  readonly scripts?: string | readonly WireScript[];
  /**
   * Builds the adapter against the server. It must make exactly one HTTP attempt per call (turn the
   * SDK's own retries off: the runtime retries) and enforce `options.timeouts`.
   */
  createProvider(options: ConformanceProviderOptions): ModelProvider | Promise<ModelProvider>;
  /** The request to send for a script. Default: `conformanceRequestFor(script)`. */
  buildRequest?(script: WireScript): LlmRequest;
  /**
   * Request matchers the adapter cannot satisfy, by script name (or `"*"` for every script), as
   * `body.<json path>` or `headers.<name>`; they are listed in the test titles. Example: an adapter
   * that always streams against a script recorded from a non-streamed call: `["body.stream"]`.
   */
  readonly ignoredRequestMatchers?: Readonly<Record<string, readonly string[]>>;
  /** Scripts left out, by name, with the reason shown as a skipped test. */
  readonly excludedScripts?: Readonly<Record<string, string>>;
  /**
   * Multiplies the scripts' `at` offsets (default 1: as recorded). `0` sends everything at once.
   */
  readonly timeScale?: number;
  /** The timeout the timeout tests configure for the timeout under test (default 250 ms). */
  readonly shortTimeoutMs?: number;
}
