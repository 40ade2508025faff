import { type ConformanceProviderOptions, describeModelProviderConformance } from "@lash/testkit";
import {
  chunkScript,
  frame,
  messageEnd,
  messageStart,
  redactedThinkingBlock,
  silentScript,
  streamScript,
  textBlock,
  toolUseBlock,
  utf8,
  withExpectation,
} from "../test/anthropic-wire-streams.js";
import { createAnthropicProvider } from "./index.js";

const createProvider = ({ baseUrl, timeouts }: ConformanceProviderOptions) =>
  createAnthropicProvider({ apiKey: "test-key", baseURL: baseUrl, timeouts, cacheRetention: "none" });

// The scripts bundled with @lash/testkit (the shared fixtures).
describeModelProviderConformance({ name: "@lash/adapter-anthropic", providerKinds: ["anthropic"], createProvider });

/** A tool call whose arguments arrive in fragments, the stream cut inside a four-byte character. */
function splitToolCallScript() {
  const fragments = ['{"q": "caf', "é ☕ 🎉", '"}'];
  const wire = utf8(
    [messageStart(), ...toolUseBlock(0, "toolu_split", "lookup", fragments), ...messageEnd("tool_use")].map(frame).join(""),
  );
  const cut = wire.indexOf(0xf0) + 1;
  const middle = Math.floor(cut / 2);
  return withExpectation(
    chunkScript("anthropic.extra-tool-call-split", [wire.slice(0, middle), wire.slice(middle, cut), wire.slice(cut)]),
    {
      terminal_reason: "tool_use",
      tool_names: ["lookup"],
    },
  );
}

const stalled = chunkScript("anthropic.extra-chunk-timeout", [frame(messageStart())], "timeout");

// Anthropic streams the fixtures do not cover, through the same checks.
describeModelProviderConformance({
  name: "@lash/adapter-anthropic (more Messages streams)",
  providerKinds: ["anthropic"],
  scripts: [
    withExpectation(
      streamScript("anthropic.extra-text-stream", [messageStart(), ...textBlock(0, ["Hello ", "wörld."]), ...messageEnd("end_turn")]),
      {
        terminal_reason: "end_turn",
        text: "Hello wörld.",
      },
    ),
    splitToolCallScript(),
    withExpectation(
      streamScript("anthropic.extra-redacted-thinking", [
        messageStart(),
        ...redactedThinkingBlock(0, "opaque"),
        ...textBlock(1, ["Done."]),
        ...messageEnd("end_turn"),
      ]),
      { terminal_reason: "end_turn", text: "Done." },
    ),
    withExpectation(
      streamScript("anthropic.extra-max-tokens", [messageStart(), ...textBlock(0, ["Cut sh"]), ...messageEnd("max_tokens")]),
      {
        terminal_reason: "max_tokens",
        text: "Cut sh",
      },
    ),
    chunkScript("anthropic.extra-disconnect", [frame(messageStart()), ...textBlock(0, ["partial"]).slice(0, 2).map(frame)], "disconnect"),
    withExpectation(stalled, { kind: "Timeout", code: "timeout", retryable: true, stream_events_committed: 1 }),
    withExpectation(silentScript("anthropic.extra-response-start-timeout"), { kind: "Timeout", code: "timeout", retryable: true }),
  ],
  createProvider,
});
