import { randomUUID } from "node:crypto";
import type { ModelProvider, SessionPolicy, SessionStore } from "@lash/protocol";
import { LashError, MODEL_PROVIDER_SPECIFICATION_VERSION, ProviderCallError, sessionPolicySchema } from "@lash/protocol";
import type { TurnInjectionBridge, TurnInputInjectionBridge } from "../session/injection-bridges.js";
import { defaultContextWindow } from "./model-context-windows.js";
import { configurationError } from "./runtime-core-draft.js";
import type { SessionCore, SessionEnvironment } from "./session-core.js";
import { createSessionCore } from "./session-manager.js";

/**
 * The policy fields a builder accepts. `model` defaults to the provider's default model;
 * `maxContextTokens` to the model's known context window (`defaultContextWindow`).
 */
export type SessionPolicyInput = Partial<Omit<SessionPolicy, "sessionId">>;

/** A provider that fails every call: the default when the host configured none. */
export const unconfiguredProvider: ModelProvider = {
  specificationVersion: MODEL_PROVIDER_SPECIFICATION_VERSION,
  providerId: "unconfigured",
  async doComplete() {
    throw new ProviderCallError({
      kind: "unsupported",
      message: "no provider configured: pass one to LashRuntime.builder().withProvider()",
      retryable: false,
      terminalReason: "provider_error",
    });
  },
};

/** Rejects a provider this runtime cannot drive (another specification version, no call method). */
export function checkProvider(provider: ModelProvider): void {
  if (provider.specificationVersion !== MODEL_PROVIDER_SPECIFICATION_VERSION) {
    throw new LashError(
      "unsupported_provider_version",
      `provider \`${provider.providerId}\` implements specification \`${String(provider.specificationVersion)}\`; this runtime supports \`${MODEL_PROVIDER_SPECIFICATION_VERSION}\``,
    );
  }
  if (typeof provider.doComplete !== "function" && typeof provider.doStream !== "function") {
    throw new LashError("invalid_configuration", `provider \`${provider.providerId}\` implements neither doComplete nor doStream`);
  }
}

/** The policy fields the quick reading takes as they are: strings, and the context window. */
const SCALAR_POLICY_KEYS: ReadonlySet<string> = new Set([
  "sessionId",
  "providerId",
  "model",
  "modelVariant",
  "maxContextTokens",
  "executionMode",
]);

/**
 * The usual policy read without the schema: only its scalar fields, each of the right type, none
 * `undefined`; the result is what `sessionPolicySchema` would give (its one default filled). A
 * prompt layer, a value to reject or a key to strip is `undefined`, and the schema reads it. A
 * runtime built per request (its policy the same every time) so skips a parse per build.
 */
function quickPolicy(candidate: Record<string, unknown>): SessionPolicy | undefined {
  for (const key in candidate) {
    if (!SCALAR_POLICY_KEYS.has(key)) return undefined;
    const value = candidate[key];
    if (key === "maxContextTokens" ? !(Number.isSafeInteger(value) && (value as number) > 0) : typeof value !== "string") return undefined;
  }
  const { sessionId, providerId, model, modelVariant, maxContextTokens, executionMode } = candidate;
  if (typeof sessionId !== "string" || sessionId === "" || typeof model !== "string" || typeof maxContextTokens !== "number")
    return undefined;
  return {
    sessionId,
    providerId: typeof providerId === "string" ? providerId : "unconfigured",
    model,
    ...(typeof modelVariant === "string" ? { modelVariant } : {}),
    maxContextTokens,
    executionMode: typeof executionMode === "string" ? executionMode : "standard",
  };
}

/** What a session core is assembled from (by a builder, or by `LashRuntime.resume`). */
export interface SessionAssembly {
  /** `undefined`: a fresh UUID. */
  readonly sessionId: string | undefined;
  readonly policy: SessionPolicyInput;
  readonly provider: ModelProvider;
  readonly environment: SessionEnvironment;
  readonly store: SessionStore | undefined;
  readonly turnInjection?: TurnInjectionBridge | undefined;
  readonly inputInjection?: TurnInputInjectionBridge | undefined;
}

/**
 * Validates everything a runtime needs before any side effect (provider, session id, policy, mode,
 * residency) and creates the session core. Every failure is an `invalid_configuration` (or
 * `unsupported_provider_version`) `LashError`.
 */
export function assembleSessionCore(assembly: SessionAssembly): SessionCore {
  const { provider, environment } = assembly;
  checkProvider(provider);
  const sessionId = assembly.sessionId ?? randomUUID();
  if (sessionId === "") throw new LashError("invalid_configuration", "session id must not be empty");
  const input = assembly.policy;
  const model = input.model ?? provider.defaultModel;
  if (model === undefined || model === "") {
    throw new LashError(
      "invalid_configuration",
      `no model: the provider \`${provider.providerId}\` has no default model; name one with withModel("...") or withPolicy({ model })`,
    );
  }
  const maxContextTokens = input.maxContextTokens ?? defaultContextWindow(model);
  const candidate = { ...input, maxContextTokens, sessionId, model, providerId: provider.providerId };
  let policy = quickPolicy(candidate);
  if (policy === undefined) {
    const parsed = sessionPolicySchema.safeParse(candidate);
    if (!parsed.success) throw configurationError("session policy", parsed.error);
    policy = parsed.data;
  }
  if (!environment.modes.has(policy.executionMode)) {
    throw new LashError(
      "invalid_configuration",
      `execution mode \`${policy.executionMode}\` is not registered (registered: ${[...environment.modes.keys()].join(", ")})`,
    );
  }
  if (environment.residency === "active_path_only" && !assembly.store) {
    // Off-path nodes leave RAM under this residency; without a store they would be gone for good.
    throw new LashError(
      "invalid_configuration",
      "residency `active_path_only` requires a session store: off-path nodes are kept only in the store (set one with withStore, or use `keep_all`)",
    );
  }
  return createSessionCore({
    policy,
    provider,
    environment,
    store: assembly.store,
    turnInjection: assembly.turnInjection,
    inputInjection: assembly.inputInjection,
  });
}
