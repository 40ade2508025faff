import { readFile, stat } from "node:fs/promises";
import { createAnthropicProvider } from "@lash/adapter-anthropic";
import { createOpenAIChatProvider } from "@lash/adapter-openai";
import { createScriptedConversationProvider, InvalidScriptedConversationError, parseScriptedConversation } from "@lash/adapter-scripted";
import { createMcpToolProvider } from "@lash/mcp";
import type { ModelProvider, TerminationPolicy, ToolProvider } from "@lash/protocol";
import { createWorkspaceToolProvider } from "@lash/tools";
import type { ResolvedProfileSpec } from "../config/resolve-server-config.js";
import { ServerConfigError } from "../config/server-config-file.js";
import { type AgentProfile, DEFAULT_TERMINATION } from "./agent-profile.js";

const HOW_TO_CONFIGURE =
  "set OPENAI_API_KEY (or ANTHROPIC_API_KEY), or --provider openai --base-url <a compatible server>, or --provider scripted --script <file.json>; the same settings go in LASH_PROVIDER / LASH_BASE_URL / LASH_SCRIPT or a profile of the server's config file";

/** A script file is read whole: refuse one that is not a small regular file first. */
const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

async function scriptedProvider(name: string, spec: ResolvedProfileSpec): Promise<{ provider: ModelProvider; model: string }> {
  const path = spec.script;
  if (path === undefined) throw new ServerConfigError(`profile ${name}: the scripted provider needs a script (--script <file.json>)`);
  const info = await stat(path).catch((error: unknown) => {
    throw new ServerConfigError(`profile ${name}: cannot read the script ${path}: ${(error as Error).message}`);
  });
  if (!info.isFile() || info.size > MAX_SCRIPT_BYTES)
    throw new ServerConfigError(`profile ${name}: the script ${path} is not a regular file of at most 4 MiB`);
  let conversation: ReturnType<typeof parseScriptedConversation>;
  try {
    conversation = parseScriptedConversation(JSON.parse(await readFile(path, "utf8")));
  } catch (error) {
    const detail = InvalidScriptedConversationError.isInstance(error) ? error.problems.join("; ") : (error as Error).message;
    throw new ServerConfigError(`profile ${name}: the script ${path} is invalid: ${detail}`);
  }
  const model = spec.model ?? conversation.model ?? "scripted-model";
  return { provider: createScriptedConversationProvider(conversation, { model }), model };
}

/** The model provider a configured profile names: the `lash` command's three, with the same keys and defaults. */
export async function createConfiguredProvider(
  name: string,
  spec: ResolvedProfileSpec,
): Promise<{ provider: ModelProvider; model: string }> {
  switch (spec.provider) {
    case undefined:
      throw new ServerConfigError(`profile ${name}: no model provider is configured; ${HOW_TO_CONFIGURE}`);
    case "scripted":
      return scriptedProvider(name, spec);
    case "openai": {
      // A local server (Ollama, vLLM) usually needs no key; OpenAI itself does.
      if (spec.apiKey === undefined && spec.baseUrl === undefined)
        throw new ServerConfigError(`profile ${name}: the openai provider needs OPENAI_API_KEY (or a baseUrl for a server without keys)`);
      const model = spec.model ?? "gpt-5";
      const provider = createOpenAIChatProvider({
        ...(spec.apiKey === undefined ? {} : { apiKey: spec.apiKey }),
        ...(spec.baseUrl === undefined ? {} : { baseURL: spec.baseUrl }),
        defaultModel: model,
      });
      return { provider, model };
    }
    case "anthropic": {
      if (spec.apiKey === undefined) throw new ServerConfigError(`profile ${name}: the anthropic provider needs ANTHROPIC_API_KEY`);
      const model = spec.model ?? "claude-sonnet-4-5";
      const provider = createAnthropicProvider({
        apiKey: spec.apiKey,
        ...(spec.baseUrl === undefined ? {} : { baseURL: spec.baseUrl }),
        defaultModel: model,
      });
      return { provider, model };
    }
  }
}

function terminationOf(spec: ResolvedProfileSpec): TerminationPolicy {
  return {
    ...DEFAULT_TERMINATION,
    ...(spec.maxModelCalls === undefined ? {} : { maxModelCalls: spec.maxModelCalls }),
    ...(spec.maxTokens === undefined ? {} : { maxTotalTokens: spec.maxTokens }),
    ...(spec.timeoutSeconds === undefined ? {} : { maxWallTimeMs: Math.max(1, Math.round(spec.timeoutSeconds * 1000)) }),
  };
}

/**
 * Builds an `AgentProfile` from its configuration: the provider, the model, the limits, the system
 * prompt, the workspace tools when `tools` is on (confined to `workspace`, default `cwd`; their
 * writes and shell commands need approval, so such a turn waits for `POST .../approvals/{id}`), and
 * the subagent tools when `subagents` is on.
 */
export async function profileFromSpec(name: string, spec: ResolvedProfileSpec, cwd: string): Promise<AgentProfile> {
  const { provider, model } = await createConfiguredProvider(name, spec);
  const toolProviders: ToolProvider[] = spec.tools === true ? [await createWorkspaceToolProvider({ root: spec.workspace ?? cwd })] : [];
  // The profile's MCP servers start on first use, once for all its sessions; a server that fails is
  // said on stderr and the turns go on without its tools.
  const servers = spec.mcpServers ?? {};
  const mcp = Object.values(servers).some((server) => server.disabled !== true)
    ? createMcpToolProvider({
        servers,
        clientInfo: { name: "lash-server", version: "0.1.0" },
        onServerError: (error) => process.stderr.write(`lash-server: profile ${name}: ${error.message}\n`),
      })
    : undefined;
  if (mcp !== undefined) toolProviders.push(mcp);
  return {
    provider,
    model,
    termination: terminationOf(spec),
    ...(spec.maxContextTokens === undefined ? {} : { maxContextTokens: spec.maxContextTokens }),
    ...(spec.systemPrompt === undefined ? {} : { systemPrompt: spec.systemPrompt }),
    ...(toolProviders.length === 0 ? {} : { toolProviders }),
    ...(spec.concurrentTurns === undefined ? {} : { concurrentTurns: spec.concurrentTurns }),
    ...(spec.subagents === undefined ? {} : { subagents: spec.subagents }),
    ...(mcp === undefined ? {} : { close: () => mcp.close() }),
  };
}
