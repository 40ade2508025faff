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
  const parsed = sessionPolicySchema.safeParse({ ...input, maxContextTokens, sessionId, model, providerId: provider.providerId });
  if (!parsed.success) throw configurationError("session policy", parsed.error);
  const policy = parsed.data;
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
