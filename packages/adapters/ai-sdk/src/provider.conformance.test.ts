// The model provider conformance suite of @lash/testkit, run over loopback HTTP against the adapter
// wrapping the AI SDK's gateway provider (the one real-HTTP AI SDK provider that ships with `ai`).
import { conformanceRequestFor, describeModelProviderConformance } from "@lash/testkit";
import { conformanceScripts, GATEWAY_MODEL_ID, gatewayModel } from "../test/gateway-scripts.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";

describeModelProviderConformance({
  name: "@lash/adapter-ai-sdk (AI SDK gateway provider)",
  providerKinds: ["ai-gateway"],
  scripts: conformanceScripts(),
  createProvider: ({ baseUrl, timeouts }) => createAiSdkProvider(gatewayModel(baseUrl), { timeouts }),
  // The adapter wraps one model: the request names it.
  buildRequest: (script) => ({ ...conformanceRequestFor(script), model: GATEWAY_MODEL_ID }),
});
