export { MAX_STORED_JSON_DEPTH, MAX_VALUE_DEPTH } from "../shared/json-depth.js";
export type { ListedSession, ListedSessionPage, SessionListingProblem } from "../shared/session-listing.js";
export type { FileSystemOperations } from "./file-access.js";
export { FileAttachmentStore } from "./file-attachment-store.js";
export type { FileSessionDatabaseOptions } from "./file-session-database.js";
export { createFileSessionDatabase, FileSessionDatabase } from "./file-session-database.js";
export { FileSessionStore } from "./file-session-store.js";
