// The lash server as a library: for hosts that embed it (their own profiles, tools and stores) and for tests.

export type { AgentProfile, ConcurrentTurnPolicy } from "./profiles/agent-profile.js";
export { CONCURRENT_TURN_POLICIES, DEFAULT_PROFILE_NAME, DEFAULT_TERMINATION } from "./profiles/agent-profile.js";
export type { LashServerApp, ServerAppOptions, ServerLimits } from "./server-app.js";
export { createServerApp, DEFAULT_SERVER_LIMITS } from "./server-app.js";
export type { ServerStats } from "./server-context.js";
export type { SessionRuntimeLimits } from "./sessions/session-runtimes.js";
export type { RunningServer, StartServerOptions } from "./start-server.js";
export { DEFAULT_GRACE_PERIOD_MS, startServer } from "./start-server.js";
export type { OpenServerStoreOptions } from "./store/open-server-store.js";
export { normalizeStoreLocation, openServerStore, StoreLocationError } from "./store/open-server-store.js";
export type { ServerStore } from "./store/server-store.js";
export type { TurnLogLimits } from "./turns/turn-log.js";
export type { TurnRegistryLimits } from "./turns/turn-registry.js";
