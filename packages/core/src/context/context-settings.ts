import type { SessionCore } from "../runtime/session-core.js";
import type { ContextManager } from "./context-manager.js";
import { rollingHistory } from "./rolling-history.js";
import type { ToolOutputBudgetOptions } from "./tool-output-limits.js";

// Stateless (its per-window settings aside), so every runtime without its own manager shares it.
const DEFAULT_CONTEXT_MANAGER = rollingHistory();
const DEFAULT_TOOL_OUTPUT_BUDGET: ToolOutputBudgetOptions = Object.freeze({});

/** The session's context manager: the runtime's, `rollingHistory()` by default, `undefined` when switched off. */
export function contextManagerOf(core: SessionCore): ContextManager | undefined {
  const configured = core.environment.core.contextManager;
  return configured === false ? undefined : (configured ?? DEFAULT_CONTEXT_MANAGER);
}

/** The session's tool-output budget: the runtime's, the defaults when it set none, `undefined` when switched off. */
export function toolOutputBudgetOf(core: SessionCore): ToolOutputBudgetOptions | undefined {
  const configured = core.environment.core.toolOutputBudget;
  return configured === false ? undefined : (configured ?? DEFAULT_TOOL_OUTPUT_BUDGET);
}
