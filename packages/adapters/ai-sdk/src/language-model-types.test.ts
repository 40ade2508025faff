// The adapter's own model types against the AI SDK's: models of both generations, from the real
// packages, must be accepted as they are, and models of other versions must not compile. The
// typecheck of this file is half of the test; the other half runs the checks of createAiSdkProvider.

import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAI as createOpenAIV3 } from "@ai-sdk/openai-v3";
import type { LanguageModelV3 as LanguageModelV3In4, LanguageModelV4 } from "@ai-sdk/provider";
import type { LanguageModelV2, LanguageModelV3, LanguageModelV3CallOptions } from "@ai-sdk/provider-v3";
import { createGateway, wrapLanguageModel } from "ai";
import { MockLanguageModelV3 as MockLanguageModelV3In7, MockLanguageModelV4 } from "ai/test";
import { createGateway as createGatewayV6, wrapLanguageModel as wrapLanguageModelV6 } from "ai-v6";
import { MockLanguageModelV3 } from "ai-v6/test";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createAiSdkProvider } from "./create-ai-sdk-provider.js";
import type { AiSdkLanguageModel, AiSdkLanguageModelV3, AiSdkLanguageModelV4 } from "./language-model-types.js";

const settings = { apiKey: "test-key", baseURL: "http://127.0.0.1:9" };

describe("the adapter's model types", () => {
  it("take the AI SDK's model types of both generations", () => {
    expectTypeOf<LanguageModelV4>().toExtend<AiSdkLanguageModelV4>();
    expectTypeOf<LanguageModelV3>().toExtend<AiSdkLanguageModelV3>();
    // `@ai-sdk/provider` 4.x still describes "v3" models, with its own JSON types.
    expectTypeOf<LanguageModelV3In4>().toExtend<AiSdkLanguageModelV3>();
    expectTypeOf<LanguageModelV2>().not.toExtend<AiSdkLanguageModel>();
  });

  it("accept the models of the real AI SDK 7 and AI SDK 6 packages", () => {
    const v4Models = [
      createOpenAI(settings).chat("gpt-4o-mini"),
      createOpenAI(settings).responses("gpt-5-mini"),
      createGateway(settings)("acme/model"),
      wrapLanguageModel({ model: new MockLanguageModelV4(), middleware: [] }),
      new MockLanguageModelV4(),
    ];
    const v3Models = [
      createOpenAIV3(settings).chat("gpt-4o-mini"),
      createOpenAIV3(settings).responses("gpt-5-mini"),
      createGatewayV6(settings)("acme/model"),
      wrapLanguageModelV6({ model: new MockLanguageModelV3(), middleware: [] }),
      new MockLanguageModelV3(),
      new MockLanguageModelV3In7(),
    ];
    for (const model of v4Models) expect(createAiSdkProvider(model).defaultModel).toBe(model.modelId);
    for (const model of v3Models) expect(createAiSdkProvider(model).defaultModel).toBe(model.modelId);
    expect(v4Models.map((model) => model.specificationVersion)).toEqual(v4Models.map(() => "v4"));
    expect(v3Models.map((model) => model.specificationVersion)).toEqual(v3Models.map(() => "v3"));
  });

  it('refuse a "v4" model that takes "v3" call options (its prompt file parts are another shape)', () => {
    type Mixed = Omit<LanguageModelV4, "doStream"> & {
      doStream(options: LanguageModelV3CallOptions): ReturnType<LanguageModelV4["doStream"]>;
    };
    expectTypeOf<Mixed>().not.toExtend<AiSdkLanguageModel>();
  });
});
