import type { LlmRequest, LlmToolSpec } from "@lash/protocol";
import type { WireScript } from "../wire-script/wire-script-schema.js";

/** The user text of a conformance request (the Google scripts ask for "answer directly"). */
export const CONFORMANCE_USER_TEXT = "Please answer directly.";

/** The tool every conformance request offers when its script matches on tools (the scripts call it `lookup`). */
function lookupTool(): LlmToolSpec {
  return {
    name: "lookup",
    description: "Look a term up.",
    inputSchema: { type: "object", properties: { q: { type: "string" } }, required: ["q"], additionalProperties: false },
  };
}

function equalsString(script: WireScript, path: string): string | undefined {
  const matcher = script.request_match.body?.[path];
  return matcher !== undefined && "equals" in matcher && typeof matcher.equals === "string" ? matcher.equals : undefined;
}

/**
 * The request the suite sends for a script unless the harness builds its own: the model the script
 * expects (`request_match.body.model`), one user message, the `lookup` tool when the script matches
 * on `tools`, and the session id the script expects (`request.sessionId`, Google's scripts).
 */
export function conformanceRequestFor(script: WireScript): LlmRequest {
  const bodyPaths = Object.keys(script.request_match.body ?? {});
  const request: LlmRequest = {
    model: equalsString(script, "model") ?? "conformance-model",
    messages: [{ role: "user", blocks: [{ type: "text", text: CONFORMANCE_USER_TEXT }] }],
    attachments: [],
    tools: bodyPaths.some((path) => path.startsWith("tools")) ? [lookupTool()] : [],
    toolChoice: "auto",
  };
  const sessionId = equalsString(script, "request.sessionId");
  if (sessionId !== undefined) request.sessionId = sessionId;
  return request;
}
