import type { BackgroundTaskHost } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import type { EmbeddedRuntimeHost } from "./runtime-core-config.js";

/** Checks that a value handed to `withBackgroundTaskHost` is a host, so a mistake fails at configuration. */
export function checkBackgroundTaskHost(host: BackgroundTaskHost): BackgroundTaskHost {
  if (typeof host !== "object" || host === null || typeof host.spawnManaged !== "function" || typeof host.closeScope !== "function") {
    throw new LashError(
      "invalid_configuration",
      "withBackgroundTaskHost needs a BackgroundTaskHost (for example a LocalBackgroundTaskHost from @lash/background)",
    );
  }
  return host;
}

/** The error for a background operation in a runtime that has no host. */
export function backgroundTasksUnavailable(sessionId: string): LashError {
  return new LashError(
    "invalid_configuration",
    `background tasks are unavailable in the runtime of session \`${sessionId}\`: configure a BackgroundTaskHost with RuntimeEnvironmentBuilder.withBackgroundTaskHost (for example a LocalBackgroundTaskHost from @lash/background)`,
  );
}

/**
 * An embedded host plus a background task host: what a deployment hands to
 * `RuntimeEnvironmentBuilder.withBackgroundRuntimeHost` to get both at once.
 */
export interface BackgroundRuntimeHost {
  readonly embedded: EmbeddedRuntimeHost;
  readonly backgroundTaskHost: BackgroundTaskHost;
}

/** Pairs an embedded host with a background task host. */
export function createBackgroundRuntimeHost(embedded: EmbeddedRuntimeHost, backgroundTaskHost: BackgroundTaskHost): BackgroundRuntimeHost {
  return Object.freeze({ embedded, backgroundTaskHost });
}
