export type { FileSystemOperations } from "./file-access.js";
export type { FileSessionDatabaseOptions } from "./file-session-database.js";
export { createFileSessionDatabase, FileSessionDatabase } from "./file-session-database.js";
export { FileSessionStore } from "./file-session-store.js";
