import type { LlmRequest } from "@lash/protocol";
import type { AiSdkLanguageModel, AiSdkStreamResult } from "./language-model-types.js";
import type { AiSdkGenerateResult } from "./model-output-types.js";
import { type CallMappingOptions, callOptionsV3FromRequest, callOptionsV4FromRequest } from "./request-mapping.js";

// The two generations take different call options (their prompt file parts differ), so each call
// is built for the generation the model names in `specificationVersion`. What comes back is read the
// same way for both (see model-output-types.ts).

/** Starts a streaming call of `model` for `request`. */
export function streamFromModel(
  model: AiSdkLanguageModel,
  request: LlmRequest,
  abortSignal: AbortSignal,
  mapping: CallMappingOptions,
): PromiseLike<AiSdkStreamResult> {
  return model.specificationVersion === "v4"
    ? model.doStream(callOptionsV4FromRequest(request, abortSignal, mapping))
    : model.doStream(callOptionsV3FromRequest(request, abortSignal, mapping));
}

/** Makes a non-streaming call of `model` for `request`. */
export function generateFromModel(
  model: AiSdkLanguageModel,
  request: LlmRequest,
  abortSignal: AbortSignal,
  mapping: CallMappingOptions,
): PromiseLike<AiSdkGenerateResult> {
  return model.specificationVersion === "v4"
    ? model.doGenerate(callOptionsV4FromRequest(request, abortSignal, mapping))
    : model.doGenerate(callOptionsV3FromRequest(request, abortSignal, mapping));
}
