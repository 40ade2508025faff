export { type CodeCell, findCodeCell } from "./cell-scan.js";
export { createRlmProtocolDriver, type RlmDriverOptions } from "./rlm-driver.js";
export { createRlmMode, type RlmMode } from "./rlm-mode.js";
export {
  DEFAULT_LIMITS,
  decodeTermination,
  RLM_MODE_ID,
  type RlmModeOptions,
  type RlmTermination,
  rlmTurnOptions,
} from "./rlm-options.js";
export type { CellResult, SandboxLimits } from "./sandbox/quickjs-sandbox.js";
export { readSandboxState, SANDBOX_STATE_KIND, type SandboxState } from "./sandbox/sandbox-state.js";
export { createRlmStreamMask, RLM_STREAM_MASK_ID } from "./stream-mask.js";
