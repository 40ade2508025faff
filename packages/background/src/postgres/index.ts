export type { DurableTaskRequest, EnqueueOptions } from "./postgres-enqueue.js";
export type { DurableTaskWork, DurableTaskWorkContext, PostgresBackgroundTaskHostOptions } from "./postgres-host-options.js";
export type { PostgresQueryable, QueryResult } from "./postgres-queryable.js";
export { createPostgresBackgroundTaskHost, PostgresBackgroundTaskHost } from "./postgres-task-host.js";
