import { createSubagentTools, LocalBackgroundTaskHost } from "@lash/background";
import { RuntimeEnvironment } from "@lash/core";
import type { BackgroundTaskRecord, ModelProvider } from "@lash/protocol";
import type { CliStore } from "../store/open-store.js";
import { formatTable } from "../render/text-table.js";

/** The background side of a command's sessions: a task host and the environment that offers subagents. */
export interface TaskEnvironment {
  readonly host: LocalBackgroundTaskHost;
  readonly environment: RuntimeEnvironment;
}

/**
 * An environment whose sessions can start subagents (`spawn_agent`, `await_agent`, `cancel_agent`,
 * `list_agents`) as background tasks of an in-process host. Child sessions are stored next to
 * their parent, and nest at most two deep.
 */
export function createTaskEnvironment(provider: ModelProvider, store: CliStore): TaskEnvironment {
  const host = new LocalBackgroundTaskHost();
  const environment = RuntimeEnvironment.builder()
    .withProvider(provider)
    .withBackgroundTaskHost(host)
    .withToolProvider(createSubagentTools({ maxDepth: 2 }))
    .withSessionStoreFactory(store.factory)
    .build();
  return { host, environment };
}

/** Background tasks as a table: id, kind, state, session, age, summary. */
export function formatTaskTable(records: readonly BackgroundTaskRecord[], now = Date.now()): string {
  const age = (since: number): string => {
    const seconds = Math.max(0, Math.round((now - since) / 1000));
    return seconds < 120 ? `${seconds}s` : `${Math.round(seconds / 60)}m`;
  };
  return formatTable(
    ["ID", "KIND", "STATE", "STARTED", "SUMMARY"],
    records.map((record) => [record.id, record.kind, record.state, `${age(record.createdAt)} ago`, (record.result?.summary ?? record.failure?.summary ?? "").replaceAll("\n", " ").slice(0, 60)]),
  );
}
