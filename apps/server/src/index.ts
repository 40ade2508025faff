// The lash server as a library: for hosts that embed it (their own profiles, tools and stores) and for tests.

export type { ServerAccessOptions } from "./auth/access-middleware.js";
export { tenantOf } from "./auth/access-middleware.js";
export type { ApiKeyInfo, CreatedApiKey, VerifiedApiKey } from "./auth/api-keys.js";
export { ApiKeyRequestError, createApiKey, hasActiveApiKeys, listApiKeys, revokeApiKey, verifyApiKey } from "./auth/api-keys.js";
export type { CorsOptions } from "./auth/cors-middleware.js";
export type { RateLimit } from "./auth/rate-limiter.js";
export { DEFAULT_RATE_LIMIT } from "./auth/rate-limiter.js";
export { LOCAL_TENANT, TENANT_NAME_PATTERN } from "./auth/tenant-name.js";
export type { AgentProfile, ConcurrentTurnPolicy } from "./profiles/agent-profile.js";
export { CONCURRENT_TURN_POLICIES, DEFAULT_PROFILE_NAME, DEFAULT_TERMINATION } from "./profiles/agent-profile.js";
export { DEFAULT_MAX_IMAGE_BODY_BYTES } from "./routes/turn-routes.js";
export type { LashServerApp, ServerAppOptions, ServerLimits } from "./server-app.js";
export { createServerApp, DEFAULT_SERVER_LIMITS } from "./server-app.js";
export type { ServerStats } from "./server-context.js";
export type { SessionRuntimeLimits } from "./sessions/session-runtimes.js";
export type { RunningServer, StartServerOptions } from "./start-server.js";
export { DEFAULT_GRACE_PERIOD_MS, isLoopbackAddress, startServer, UnprotectedBindError } from "./start-server.js";
export type { ServerAccessStore, StoredApiKey } from "./store/access-store.js";
export { ApiKeyIdTakenError, createMemoryAccessStore } from "./store/access-store.js";
export type { OpenServerStoreOptions } from "./store/open-server-store.js";
export { normalizeStoreLocation, openServerStore, StoreLocationError } from "./store/open-server-store.js";
export type { ServerStore } from "./store/server-store.js";
export { AccessTablesNotMigratedError } from "./store/sql-access-store.js";
export type { TurnLogLimits } from "./turns/turn-log.js";
export type { TurnRegistryLimits } from "./turns/turn-registry.js";
