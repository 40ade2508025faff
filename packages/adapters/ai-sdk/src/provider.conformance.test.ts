// The model provider conformance suite of @lash/testkit, run over loopback HTTP against the adapter
// wrapping the AI SDK's gateway provider (the one real-HTTP AI SDK provider that ships with `ai`),
// once per generation: `ai` 7's gateway makes "v4" models, `ai` 6's "v3" ones.
import { conformanceRequestFor, describeModelProviderConformance } from "@lash/testkit";
import { conformanceScripts, GATEWAY_MODEL_ID, gatewayModel } from "../test/gateway-scripts.js";
import type { Generation } from "../test/model-fixtures.js";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";

const GENERATIONS: ReadonlyArray<readonly [Generation, string]> = [
  ["v4", "AI SDK 7"],
  ["v3", "AI SDK 6"],
];

for (const [generation, release] of GENERATIONS) {
  describeModelProviderConformance({
    name: `@lash/adapter-ai-sdk (${release} gateway provider, "${generation}")`,
    providerKinds: ["ai-gateway"],
    scripts: conformanceScripts(generation),
    createProvider: ({ baseUrl, timeouts }) => createAiSdkProvider(gatewayModel(baseUrl, generation), { timeouts }),
    // The adapter wraps one model: the request names it.
    buildRequest: (script) => ({ ...conformanceRequestFor(script), model: GATEWAY_MODEL_ID }),
  });
}
