import type { LlmToolSpec, ToolDefinition, ToolExecutionMode, ToolProvider } from "@lash/protocol";
import { RuntimeError } from "@lash/protocol";
import { checkedModelInputSchema } from "./model-input-schema.js";

/** A tool as the turn sees it. */
export interface ResolvedTool {
  readonly definition: ToolDefinition<unknown>;
  readonly spec: LlmToolSpec;
  readonly executionMode: ToolExecutionMode;
  /** True for the execution mode's own tools (they may dispatch nested calls). */
  readonly native: boolean;
}

const specCache = new WeakMap<ToolDefinition<unknown>, LlmToolSpec>();

/**
 * The spec the model sees. Its JSON Schema is checked once, when the tool is first registered (or
 * already by `defineTool`): a broken schema fails the build with the tool's name and the schema
 * location, instead of failing every call later (or being rejected by the provider mid-turn).
 */
function specFor(definition: ToolDefinition<unknown>): LlmToolSpec {
  let spec = specCache.get(definition);
  if (!spec) {
    spec = { name: definition.name, description: definition.description, inputSchema: checkedModelInputSchema(definition) };
    specCache.set(definition, spec);
  }
  return spec;
}

function validName(name: unknown): name is string {
  return typeof name === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(name);
}

/** The tools of one turn: the mode's native tools plus every provider's tools, by name. */
export class ToolSurface {
  readonly #tools: Map<string, ResolvedTool>;
  readonly specs: readonly LlmToolSpec[];

  private constructor(tools: Map<string, ResolvedTool>) {
    this.#tools = tools;
    this.specs = [...tools.values()].map((tool) => tool.spec);
  }

  static async build(input: {
    readonly nativeTools: readonly ToolDefinition<unknown>[];
    readonly providers: readonly ToolProvider[];
  }): Promise<ToolSurface> {
    const tools = new Map<string, ResolvedTool>();
    const add = (definition: ToolDefinition<unknown>, native: boolean): void => {
      if (!validName(definition.name)) {
        throw new RuntimeError(
          "invalid_configuration",
          `tool name \`${String(definition.name)}\` is invalid: use 1-64 letters, digits, \`_\` or \`-\``,
        );
      }
      if (tools.has(definition.name)) {
        throw new RuntimeError("invalid_configuration", `tool \`${definition.name}\` is provided twice`);
      }
      tools.set(definition.name, {
        definition,
        spec: specFor(definition),
        executionMode: definition.executionMode ?? "parallel",
        native,
      });
    };
    for (const definition of input.nativeTools) add(definition, true);
    for (const provider of input.providers) {
      const listed = provider.listTools();
      const definitions = Array.isArray(listed) ? listed : await listed;
      for (const definition of definitions) add(definition, false);
    }
    return new ToolSurface(tools);
  }

  get(name: string): ResolvedTool | undefined {
    return this.#tools.get(name);
  }

  get names(): string[] {
    return [...this.#tools.keys()];
  }
}

/** A provider over a fixed list of tools. */
export function createToolProvider(tools: readonly ToolDefinition<unknown>[]): ToolProvider {
  const frozen = [...tools];
  return { listTools: () => frozen };
}
