export { createFileSessionDatabase, FileSessionDatabase } from "./file-session-database.js";
export type { FileSessionDatabaseOptions } from "./file-session-database.js";
export { FileSessionStore } from "./file-session-store.js";
export type { FileSystemOperations } from "./file-access.js";
