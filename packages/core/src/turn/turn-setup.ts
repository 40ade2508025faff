import type { LlmToolSpec, ModelProvider, PromptContribution, TerminationPolicy, ToolProvider, TurnInput } from "@lash/protocol";
import { DEFAULT_PROVIDER_RETRY_POLICY, RuntimeError, terminationPolicySchema } from "@lash/protocol";
import { toolOutputBudgetOf } from "../context/context-settings.js";
import { withContextTools } from "../context/read-tool-output.js";
import type { ExecutionMode, ModePreamble, ModeTurnSetup } from "../modes/execution-mode.js";
import { buildSystemPrompt, emptyPromptLayer } from "../prompt/prompt-builder.js";
import type { SessionCore } from "../runtime/session-core.js";
import { ToolSurface } from "../tools/tool-surface.js";
import type { ProviderCallSettings } from "./provider-call.js";
import { abortableSleep } from "./provider-call.js";

/** The provider and model a turn runs on, after the turn context's overrides. */
export interface TurnModelSelection {
  readonly provider: ModelProvider;
  readonly model: string;
  readonly modelVariant: string | undefined;
}

/**
 * Applies the turn context's provider and model overrides to the session's (for this turn only):
 * a provider override brings its default model; a model override wins over both.
 */
export function selectTurnModel(core: SessionCore, input: TurnInput): TurnModelSelection {
  const context = input.turnContext;
  const provider = context?.provider ?? core.provider;
  let model = core.policy.model;
  let modelVariant = core.policy.modelVariant;
  if (context?.provider) {
    model = context.provider.defaultModel ?? model;
    modelVariant = undefined;
  }
  if (context?.model) {
    model = context.model.model;
    if (context.model.variant === null) modelVariant = undefined;
    else if (context.model.variant !== undefined) modelVariant = context.model.variant;
  }
  return { provider, model: provider.resolveModel?.(model) ?? model, modelVariant };
}

/** Checks the selected variant against what the provider's model supports; returns a message on failure. */
export function variantProblem(selection: TurnModelSelection): string | undefined {
  if (selection.modelVariant === undefined) return undefined;
  const supported = selection.provider.supportedVariants?.(selection.model);
  if (!supported || supported.length === 0) {
    return `Model \`${selection.model}\` on ${selection.provider.providerId} does not expose configurable variants.`;
  }
  if (!supported.includes(selection.modelVariant)) {
    return `Unsupported variant \`${selection.modelVariant}\` for \`${selection.model}\` on ${selection.provider.providerId}. Available: ${supported.join(", ")}`;
  }
  return undefined;
}

/** The runtime's termination policy with the turn's overrides; invalid values are a caller error. */
export function turnTermination(core: SessionCore, input: Partial<TurnInput>): TerminationPolicy {
  const base = core.environment.core.termination;
  const override = input.turnContext?.termination;
  if (!override) return base;
  // An override field left `undefined` keeps the runtime's value: `{...base, ...override}` would
  // let a host's unset variable silently lift a limit.
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) if (value !== undefined) merged[key] = value;
  const { stopWhen, ...limits } = merged as TerminationPolicy;
  const parsed = terminationPolicySchema.safeParse(limits);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RuntimeError(
      "invalid_argument",
      `invalid turn termination policy at \`${issue?.path.join(".") ?? ""}\`: ${issue?.message ?? "invalid"}`,
    );
  }
  return stopWhen === undefined ? parsed.data : { ...parsed.data, stopWhen };
}

export function providerSettings(core: SessionCore, provider: ModelProvider): ProviderCallSettings {
  return {
    retryPolicy: core.environment.core.providerRetryPolicy ?? provider.retryPolicy ?? DEFAULT_PROVIDER_RETRY_POLICY,
    sleep: abortableSleep,
    random: Math.random,
  };
}

/** The tool surface and system prompt of a turn. */
export interface TurnSurface {
  readonly surface: ToolSurface;
  readonly preamble: ModePreamble;
  readonly systemPrompt: string;
  readonly toolSpecs: readonly LlmToolSpec[];
}

/**
 * Builds the tool surface (the mode's tools, the runtime's providers unless a transform hid them,
 * the transform's providers) and renders the system prompt from its layers: mode preamble,
 * execution surface (transform, plugin and mode-extension contributions), runtime core, session
 * policy, turn context.
 */
export async function buildTurnSurface(
  core: SessionCore,
  mode: ExecutionMode,
  input: TurnInput,
  prepared: {
    readonly promptContributions: readonly PromptContribution[];
    readonly toolProviders: readonly ToolProvider[];
    readonly includeBaseTools: boolean;
  },
  setup: ModeTurnSetup = {},
): Promise<TurnSurface> {
  const { environment } = core;
  const providers = withContextTools(
    core,
    toolOutputBudgetOf(core),
    prepared.includeBaseTools ? [...environment.toolProviders, ...prepared.toolProviders] : [...prepared.toolProviders],
  );
  const surface = await ToolSurface.build({ nativeTools: mode.nativeTools?.() ?? [], providers });
  const toolNames = surface.names;
  const preamble = mode.buildPreamble({ ...setup, toolNames });
  const pluginContributions = environment.plugins.isEmpty
    ? []
    : await environment.plugins.promptContributions({ sessionId: core.sessionId, policy: core.policy, toolNames });
  const extensionContributions = input.modeExtension?.promptContributions?.() ?? [];
  const systemPrompt = buildSystemPrompt({
    layers: [
      { contributions: [...preamble.promptContributions], resetSlots: [] },
      { contributions: [...prepared.promptContributions, ...pluginContributions, ...extensionContributions], resetSlots: [] },
      environment.core.prompt,
      core.policy.prompt ?? emptyPromptLayer(),
      input.turnContext?.prompt ?? emptyPromptLayer(),
    ],
    executionPrompt: preamble.executionPrompt,
    toolNames,
  });
  return { surface, preamble, systemPrompt, toolSpecs: surface.specs };
}
