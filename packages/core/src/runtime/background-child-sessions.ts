import type { BackgroundTaskHost, ToolDefinition, ToolProvider } from "@lash/protocol";
import { LashError } from "@lash/protocol";

/**
 * The tool providers of a child session that may only use `toolNames`: each provider lists only
 * those tools. Every name must exist in the parent's providers (an unknown name is a typo the caller
 * should hear about, not a silently smaller surface).
 */
export async function restrictToolProviders(providers: readonly ToolProvider[], toolNames: readonly string[]): Promise<ToolProvider[]> {
  const allowed = new Set(toolNames);
  const available = new Set<string>();
  for (const provider of providers) for (const tool of await provider.listTools()) available.add(tool.name);
  const unknown = [...allowed].filter((name) => !available.has(name));
  if (unknown.length > 0) {
    throw new LashError(
      "session_manager",
      `unknown tool${unknown.length === 1 ? "" : "s"} ${unknown.map((name) => `\`${name}\``).join(", ")} for a child session (available: ${
        [...available]
          .sort()
          .map((name) => `\`${name}\``)
          .join(", ") || "none"
      })`,
    );
  }
  return providers.map((provider) => {
    const restricted: ToolProvider = {
      listTools: async (): Promise<readonly ToolDefinition<unknown>[]> =>
        (await provider.listTools()).filter((tool) => allowed.has(tool.name)),
    };
    return restricted;
  });
}

/**
 * Applies the close policies of a closed child session's tasks, transferring to the parent. No host:
 * nothing to do.
 */
export async function closeChildBackgroundTasks(
  environment: { readonly backgroundTaskHost: BackgroundTaskHost | undefined },
  childSessionId: string,
  parentSessionId: string,
): Promise<void> {
  const host = environment.backgroundTaskHost;
  if (host === undefined) return;
  await host.closeScope({ sessionId: childSessionId }, { parent: { sessionId: parentSessionId } });
}
