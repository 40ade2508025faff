import type {
  AttachmentStore,
  PromptContribution,
  PromptLayer,
  PromptSlot,
  ProviderRetryPolicy,
  TerminationPolicy,
  TraceLevel,
  TraceSink,
} from "@lash/protocol";
import { LashError, promptLayerSchema, terminationPolicySchema, traceLevelSchema } from "@lash/protocol";
import { type ContextManager, checkContextManager } from "../context/context-manager.js";
import { checkToolOutputBudget, type ToolOutputBudgetOptions } from "../context/tool-output-limits.js";
import { emptyPromptLayer } from "../prompt/prompt-builder.js";
import type { RuntimeEffectHost } from "./effect-host.js";
import { createRuntimeCoreConfig, isDefaultAttachmentStore, type RuntimeApprovals, type RuntimeCoreConfig } from "./runtime-core-config.js";

/** A builder-time configuration error naming the first bad field. */
export function configurationError(
  what: string,
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
): LashError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String).join(".") : "";
  return new LashError("invalid_configuration", `invalid ${what}${path ? ` at \`${path}\`` : ""}: ${issue?.message ?? "invalid"}`);
}

/**
 * The `RuntimeCoreConfig` a builder is assembling. Both `EmbeddedRuntimeBuilder` and
 * `RuntimeEnvironmentBuilder` keep one, so their per-field setters behave the same: `replace` swaps
 * the whole config, and setters called afterwards still apply on top of it.
 */
export class RuntimeCoreConfigDraft {
  #fields: Partial<RuntimeCoreConfig> = {};
  #prompt: PromptLayer = emptyPromptLayer();

  replace(core: RuntimeCoreConfig): void {
    this.#fields = { ...core };
    this.#prompt = core.prompt;
  }

  setTermination(termination: TerminationPolicy): void {
    const { stopWhen, ...limits } = termination;
    const parsed = terminationPolicySchema.safeParse(limits);
    if (!parsed.success) throw configurationError("termination policy", parsed.error);
    this.#fields = { ...this.#fields, termination: stopWhen === undefined ? parsed.data : { ...parsed.data, stopWhen } };
  }

  setEffectHost(effectHost: RuntimeEffectHost): void {
    this.#fields = { ...this.#fields, effectHost };
  }

  setAttachmentStore(attachmentStore: AttachmentStore): void {
    this.#fields = { ...this.#fields, attachmentStore };
  }

  setProviderRetryPolicy(providerRetryPolicy: ProviderRetryPolicy): void {
    this.#fields = { ...this.#fields, providerRetryPolicy };
  }

  setTraceSink(traceSink: TraceSink, traceLevel: TraceLevel): void {
    if (typeof traceSink !== "object" || traceSink === null || typeof traceSink.record !== "function") {
      throw new LashError("invalid_configuration", "a trace sink must be an object with a `record(record)` method");
    }
    const level = traceLevelSchema.safeParse(traceLevel);
    if (!level.success) throw configurationError("trace level", level.error);
    this.#fields = { ...this.#fields, traceSink, traceLevel: level.data };
  }

  setApprovals(approvals: RuntimeApprovals): void {
    this.#fields = { ...this.#fields, approvals };
  }

  setPriceTableDate(priceTableDate: string): void {
    this.#fields = { ...this.#fields, priceTableDate };
  }

  setContextManager(contextManager: ContextManager | false): void {
    this.#fields = { ...this.#fields, contextManager: checkContextManager(contextManager) };
  }

  setToolOutputBudget(toolOutputBudget: ToolOutputBudgetOptions | false): void {
    this.#fields = { ...this.#fields, toolOutputBudget: checkToolOutputBudget(toolOutputBudget) };
  }

  setPromptLayer(layer: PromptLayer): void {
    const parsed = promptLayerSchema.safeParse(layer);
    if (!parsed.success) throw configurationError("prompt layer", parsed.error);
    this.#prompt = parsed.data;
  }

  setPromptTemplate(template: string): void {
    this.#prompt = { ...this.#prompt, template };
  }

  addPromptContribution(contribution: { slot: PromptSlot; content: string; priority?: number; title?: string }): void {
    const full: PromptContribution = { priority: 0, ...contribution };
    this.#prompt = { ...this.#prompt, contributions: [...this.#prompt.contributions, full] };
  }

  /** Drops earlier layers' contributions to `slot` and adds this one. */
  replacePromptSlot(slot: PromptSlot, content: string): void {
    this.#prompt = {
      ...this.#prompt,
      contributions: [...this.#prompt.contributions.filter((contribution) => contribution.slot !== slot), { slot, priority: 0, content }],
      resetSlots: [...this.#prompt.resetSlots, slot],
    };
  }

  clearPromptSlot(slot: PromptSlot): void {
    this.#prompt = {
      ...this.#prompt,
      contributions: this.#prompt.contributions.filter((contribution) => contribution.slot !== slot),
      resetSlots: [...this.#prompt.resetSlots, slot],
    };
  }

  /**
   * The config with defaults for every field no setter touched. `backendAttachments` (the attachment
   * store of the session store the runtime is built on) replaces the in-memory default, so images
   * live as long as the messages that reference them; an attachment store the host gave stays.
   */
  build(backendAttachments?: AttachmentStore): RuntimeCoreConfig {
    const fields =
      backendAttachments !== undefined && isDefaultAttachmentStore(this.#fields.attachmentStore)
        ? { ...this.#fields, attachmentStore: backendAttachments }
        : this.#fields;
    return createRuntimeCoreConfig({ ...fields, prompt: this.#prompt });
  }
}

/**
 * The core-config setters both builders offer (`EmbeddedRuntimeBuilder`, `RuntimeEnvironmentBuilder`):
 * one implementation, so they cannot drift apart. `withRuntimeCoreConfig` replaces the whole config;
 * setters called afterwards still apply on top of it.
 */
export abstract class RuntimeCoreSetters {
  protected readonly core = new RuntimeCoreConfigDraft();

  /** Replaces the whole core configuration; setters called afterwards still apply. */
  withRuntimeCoreConfig(core: RuntimeCoreConfig): this {
    this.core.replace(core);
    return this;
  }

  withAttachmentStore(attachmentStore: AttachmentStore): this {
    this.core.setAttachmentStore(attachmentStore);
    return this;
  }

  withTermination(termination: TerminationPolicy): this {
    this.core.setTermination(termination);
    return this;
  }

  withEffectHost(effectHost: RuntimeEffectHost): this {
    this.core.setEffectHost(effectHost);
    return this;
  }

  /** Retry policy for every provider call (overrides the provider's own). */
  withProviderRetryPolicy(providerRetryPolicy: ProviderRetryPolicy): this {
    this.core.setProviderRetryPolicy(providerRetryPolicy);
    return this;
  }

  /**
   * Sends the trace records of every turn to `sink` (`standard` level unless told otherwise). A sink
   * that throws never breaks a turn; without a sink no record is built.
   */
  withTraceSink(sink: TraceSink, level: TraceLevel = "standard"): this {
    this.core.setTraceSink(sink, level);
    return this;
  }

  /**
   * How approval requests of tools with `needsApproval` are answered in every turn without its own
   * `approve` option (child sessions included). `approve` answers `approve`, `reject` (the model
   * sees the reason) or `defer`; a deferred request (or any request, without `approve`) makes the
   * turn suspend with `stopped { awaiting_approval }` until `resumeTurn` brings the decisions.
   * `expiresInMs` is the default lifetime of a request that waits.
   */
  withApprovals(approvals: RuntimeApprovals): this {
    this.core.setApprovals(approvals);
    return this;
  }

  /**
   * Records `date` (`YYYY-MM-DD`, the `effectiveDate` of the price table in force) with every usage
   * this runtime adds to the session's token ledger, so a cost report prices those tokens at the
   * prices of that day even after the table changes (`computeCostReport` with a price history).
   * Without it, ledger rows carry no date and are priced at whatever table a report uses.
   */
  withPriceTableDate(date: string): this {
    this.core.setPriceTableDate(date);
    return this;
  }

  /**
   * How every model call's prompt is kept within the context window: `rollingHistory(options)`
   * (the default, with its defaults), another `ContextManager`, or `false` for none (a long session,
   * or one big tool output, may then end `context_overflow`).
   */
  withContextManager(manager: ContextManager | false): this {
    this.core.setContextManager(manager);
    return this;
  }

  /**
   * The most of one tool result the model sees (default 50,000 bytes or 2,000 lines, `tools` per
   * tool name; `defineTool({ outputBudget })` sets a tool's own): a longer result is cut to its
   * head and tail with a marker, the full output is stored, and the `read_tool_output` tool pages
   * through it. `false` switches the budget (and that tool) off.
   */
  withToolOutputBudget(budget: ToolOutputBudgetOptions | false): this {
    this.core.setToolOutputBudget(budget);
    return this;
  }

  withPromptLayer(layer: PromptLayer): this {
    this.core.setPromptLayer(layer);
    return this;
  }

  withPromptTemplate(template: string): this {
    this.core.setPromptTemplate(template);
    return this;
  }

  withPromptContribution(contribution: { slot: PromptSlot; content: string; priority?: number; title?: string }): this {
    this.core.addPromptContribution(contribution);
    return this;
  }

  /** Drops earlier layers' contributions to `slot` and adds this one. */
  withReplacedPromptSlot(slot: PromptSlot, content: string): this {
    this.core.replacePromptSlot(slot, content);
    return this;
  }

  withClearedPromptSlot(slot: PromptSlot): this {
    this.core.clearPromptSlot(slot);
    return this;
  }
}
