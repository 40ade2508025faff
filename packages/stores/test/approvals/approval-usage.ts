import type { TokenUsage } from "@lash/protocol";

/** The usage every model call of the approval test process reports. */
export const APPROVAL_CALL_USAGE: TokenUsage = { inputTokens: 100, outputTokens: 10, cachedInputTokens: 0, reasoningTokens: 0 };
