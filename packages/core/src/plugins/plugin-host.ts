import type { LlmResponse, PluginMessage, PluginRuntimeEvent, PromptContribution, ToolCallRecord } from "@lash/protocol";
import { RuntimeError } from "@lash/protocol";
import type {
  AfterToolHookRequest,
  AssistantResponseContext,
  AssistantStreamChunk,
  BeforeTurnRequest,
  CheckpointRequest,
  LashPlugin,
  PluginDirective,
  PluginHookResult,
  PluginLifecycleEvent,
  PreparedContext,
  PromptContributionContext,
  ToolHookRequest,
  TurnResultSummary,
  TurnTransformContext,
} from "./plugin.js";

/** Directives collected from one hook point, by kind. */
export interface CollectedDirectives {
  readonly messages: PluginMessage[];
  readonly events: { pluginId: string; event: PluginRuntimeEvent }[];
  readonly sessions: PluginDirective[];
  abort: { pluginId: string; code: string; message: string } | undefined;
  /** Directives the hook point does not allow (a contract error for turn-level hooks). */
  readonly rejected: { pluginId: string; directive: PluginDirective }[];
  readonly toolDirectives: { pluginId: string; directive: PluginDirective }[];
}

function emptyCollection(): CollectedDirectives {
  return { messages: [], events: [], sessions: [], abort: undefined, rejected: [], toolDirectives: [] };
}

type HookName = "beforeTurn" | "atCheckpoint" | "beforeToolCall" | "afterToolCall" | "afterTurn";

const TOOL_DIRECTIVES = new Set<PluginDirective["type"]>(["replace_tool_args", "short_circuit_tool", "handoff_session"]);

/** Runs plugin hooks in registration order and sorts their directives. */
export class PluginHost {
  readonly #plugins: readonly LashPlugin[];
  readonly #hasStreamHooks: boolean;
  readonly #hasResponseHooks: boolean;
  readonly #hasProjectors: boolean;

  constructor(plugins: readonly LashPlugin[]) {
    const ids = new Set<string>();
    for (const plugin of plugins) {
      if (ids.has(plugin.id)) throw new RuntimeError("invalid_configuration", `plugin \`${plugin.id}\` is registered twice`);
      ids.add(plugin.id);
    }
    this.#plugins = plugins;
    this.#hasStreamHooks = plugins.some((plugin) => plugin.transformAssistantStream);
    this.#hasResponseHooks = plugins.some((plugin) => plugin.transformAssistantResponse);
    this.#hasProjectors = plugins.some((plugin) => plugin.projectToolResult);
  }

  get plugins(): readonly LashPlugin[] {
    return this.#plugins;
  }
  get isEmpty(): boolean {
    return this.#plugins.length === 0;
  }
  get hasStreamHooks(): boolean {
    return this.#hasStreamHooks;
  }
  get hasResponseHooks(): boolean {
    return this.#hasResponseHooks;
  }

  /** Runs the context transforms in priority order, each on the previous one's output. */
  async transformTurnContext(context: TurnTransformContext, prepared: PreparedContext): Promise<PreparedContext> {
    let current = prepared;
    const transforms = this.#plugins
      .filter((plugin) => plugin.transformTurnContext)
      .sort((left, right) => (left.priority ?? 0) - (right.priority ?? 0));
    for (const plugin of transforms) {
      current = await (plugin.transformTurnContext as NonNullable<LashPlugin["transformTurnContext"]>)(context, current);
    }
    return current;
  }

  beforeTurn(request: BeforeTurnRequest): Promise<CollectedDirectives> {
    return this.#collect("beforeTurn", (plugin) => plugin.beforeTurn?.(request));
  }

  atCheckpoint(request: CheckpointRequest): Promise<CollectedDirectives> {
    return this.#collect("atCheckpoint", (plugin) => plugin.atCheckpoint?.(request));
  }

  beforeToolCall(request: ToolHookRequest): Promise<CollectedDirectives> {
    return this.#collect("beforeToolCall", (plugin) => plugin.beforeToolCall?.(request));
  }

  afterToolCall(request: AfterToolHookRequest): Promise<CollectedDirectives> {
    return this.#collect("afterToolCall", (plugin) => plugin.afterToolCall?.(request));
  }

  afterTurn(summary: TurnResultSummary): Promise<CollectedDirectives> {
    return this.#collect("afterTurn", (plugin) => plugin.afterTurn?.(summary));
  }

  /** The first projector's text for a tool result, or `undefined` for the default rendering. */
  async projectToolResult(record: ToolCallRecord): Promise<string | undefined> {
    if (!this.#hasProjectors) return undefined;
    for (const plugin of this.#plugins) {
      const projected = await plugin.projectToolResult?.(record);
      if (projected !== undefined) return projected;
    }
    return undefined;
  }

  /** Chains the stream hooks: each sees the previous one's chunk. */
  transformAssistantStream(chunk: AssistantStreamChunk): {
    text: string;
    reasoningDeltas: string[];
    abortStream: boolean;
    events: { pluginId: string; event: PluginRuntimeEvent }[];
  } {
    let text = chunk.text;
    const reasoningDeltas: string[] = [];
    const events: { pluginId: string; event: PluginRuntimeEvent }[] = [];
    let abortStream = false;
    for (const plugin of this.#plugins) {
      const transform = plugin.transformAssistantStream?.({ ...chunk, text });
      if (!transform) continue;
      text = transform.text;
      if (transform.reasoningDeltas) reasoningDeltas.push(...transform.reasoningDeltas);
      if (transform.abortStream) abortStream = true;
      for (const event of transform.events ?? []) events.push({ pluginId: plugin.id, event });
    }
    return { text, reasoningDeltas, abortStream, events };
  }

  /** Chains the response hooks: the last response wins. */
  async transformAssistantResponse(response: LlmResponse, context: AssistantResponseContext): Promise<LlmResponse> {
    let current = response;
    for (const plugin of this.#plugins) {
      if (plugin.transformAssistantResponse) current = await plugin.transformAssistantResponse(current, context);
    }
    return current;
  }

  async promptContributions(context: PromptContributionContext): Promise<PromptContribution[]> {
    const contributions: PromptContribution[] = [];
    for (const plugin of this.#plugins) {
      const contributed = await plugin.promptContributions?.(context);
      if (contributed) contributions.push(...contributed);
    }
    return contributions;
  }

  async emitLifecycle(event: PluginLifecycleEvent): Promise<void> {
    for (const plugin of this.#plugins) await plugin.onLifecycleEvent?.(event);
  }

  async #collect(hook: HookName, run: (plugin: LashPlugin) => PluginHookResult): Promise<CollectedDirectives> {
    const collected = emptyCollection();
    for (const plugin of this.#plugins) {
      if (!plugin[hook]) continue;
      const directives = (await run(plugin)) ?? [];
      for (const directive of directives) this.#sort(hook, plugin.id, directive, collected);
    }
    return collected;
  }

  #sort(hook: HookName, pluginId: string, directive: PluginDirective, collected: CollectedDirectives): void {
    switch (directive.type) {
      case "enqueue_messages":
        collected.messages.push(...directive.messages);
        return;
      case "abort_turn":
        if (hook === "afterTurn") collected.rejected.push({ pluginId, directive });
        else collected.abort ??= { pluginId, code: directive.code, message: directive.message };
        return;
      case "emit_runtime_events":
        for (const event of directive.events) collected.events.push({ pluginId, event });
        return;
      case "create_session":
        collected.sessions.push(directive);
        return;
      default:
        if (TOOL_DIRECTIVES.has(directive.type) && (hook === "beforeToolCall" || hook === "afterToolCall")) {
          collected.toolDirectives.push({ pluginId, directive });
        } else {
          collected.rejected.push({ pluginId, directive });
        }
    }
  }
}
