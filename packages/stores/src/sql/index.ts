export { MAX_STORED_JSON_DEPTH, MAX_VALUE_DEPTH } from "../shared/json-depth.js";
export type { ListedSession, ListedSessionPage, SessionListingProblem } from "../shared/session-listing.js";
export { SqlAttachmentStore } from "./sql-attachment-store.js";
export type { SqlCommitContext, SqlCommitHook, SqlQueryResult } from "./sql-commit-hook.js";
export type { SqlConnectionTarget } from "./sql-connection.js";
export { parseSqlConnectionString, redactConnectionString } from "./sql-connection.js";
export type { DamagedSessions } from "./sql-damage-scan.js";
export { SqlCommitHookError, SqliteDatabaseBusyError, SqlSchemaNotMigratedError } from "./sql-errors.js";
export type { MigrationReport } from "./sql-migration-runner.js";
export type { LashMigrationOptions } from "./sql-migrations.js";
export { createLashMigrationProvider, LASH_MIGRATION_LOCK_TABLE, LASH_MIGRATION_TABLE, lashMigrations } from "./sql-migrations.js";
export type {
  BigIntegerColumn,
  LashAttachmentChunksTable,
  LashAttachmentsTable,
  LashBlobsTable,
  LashCommitsTable,
  LashGraphNodesTable,
  LashHeadsTable,
  LashSessionMetaTable,
  LashSessionSummariesTable,
  LashSqlSchema,
  LashUsageDeltasTable,
  NullableBigIntegerColumn,
  SqlDialectName,
} from "./sql-schema.js";
export type {
  SqlConnectionStringOptions,
  SqlKyselyOptions,
  SqlSessionDatabaseOptions,
} from "./sql-session-database.js";
export { createSqlSessionDatabase, SqlSessionDatabase } from "./sql-session-database.js";
export { SqlSessionStore } from "./sql-session-store.js";
