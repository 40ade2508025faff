import { describeModelProviderConformance, type WireScript } from "@lash/testkit";
import { createOpenAIChatProvider } from "./chat-provider.js";
import { createOpenAIResponsesProvider } from "./responses-provider.js";

/** The API root a script's endpoint lives under (`/backend-api/codex` for the ChatGPT backend). */
function apiRoot(script: WireScript, endpoint: string): string {
  const path = script.endpoint.path;
  if (!path.endsWith(endpoint)) throw new Error(`${script.name}: the endpoint ${path} does not end with ${endpoint}`);
  return path.slice(0, -endpoint.length);
}

/** Whether the script was recorded from a streamed call (`stream: false` scripts get a plain JSON request). */
function streams(script: WireScript): boolean {
  const matcher = script.request_match.body?.stream;
  return !(matcher !== undefined && "equals" in matcher && matcher.equals === false);
}

/** The headers a script expects beyond the adapter's own (the ChatGPT backend's `OpenAI-Beta`). */
function scriptHeaders(script: WireScript): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, matcher] of Object.entries(script.request_match.headers ?? {})) {
    if (name === "authorization" || name === "content-type") continue;
    if ("contains" in matcher && typeof matcher.contains === "string") headers[name] = matcher.contains;
  }
  return headers;
}

describeModelProviderConformance({
  name: "@lash/adapter-openai (Chat Completions)",
  providerKinds: ["openai-compatible"],
  createProvider: ({ baseUrl, timeouts, script }) =>
    createOpenAIChatProvider({
      baseURL: `${baseUrl}${apiRoot(script, "/chat/completions")}`,
      apiKey: "test-key",
      timeouts,
      stream: streams(script),
    }),
});

describeModelProviderConformance({
  name: "@lash/adapter-openai (Responses)",
  providerKinds: ["openai", "codex"],
  createProvider: ({ baseUrl, timeouts, script }) =>
    createOpenAIResponsesProvider({
      baseURL: `${baseUrl}${apiRoot(script, "/responses")}`,
      apiKey: "test-key",
      headers: scriptHeaders(script),
      timeouts,
      stream: streams(script),
    }),
});
