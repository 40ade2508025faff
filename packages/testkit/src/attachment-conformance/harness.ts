import type { AttachmentRef, AttachmentStore } from "@lash/protocol";

/** What an attachment store declares it can do; the suite never skips by backend name. */
export interface AttachmentStoreCapabilities {
  /** Blobs survive `backend.reopen()` (a new connection or instance over the same storage). */
  readonly durable: boolean;
}

/** How `setup` configures the store under test. */
export interface AttachmentStoreSetupOptions {
  /** The store's `maxAttachmentBytes`; absent = the store's default (20 MiB). */
  readonly maxAttachmentBytes?: number;
}

/** One backend instance (a database, a root folder, a process's memory) holding an attachment store and its sessions. */
export interface AttachmentStoreBackend {
  /** The store under test. */
  readonly store: AttachmentStore;
  /**
   * Makes session `sessionId` reference `attachment` the way the backend's sessions do (a durable
   * store: commit a message with an image part to the session). Called several times per session.
   */
  reference(sessionId: string, attachment: AttachmentRef): Promise<void>;
  /** Deletes the session and with it its references. */
  deleteSession(sessionId: string): Promise<void>;
  /** Closes this backend and opens it again over the same storage (only called when `durable`). */
  reopen?(): Promise<AttachmentStoreBackend>;
  /** Releases connections and removes what `setup` created. */
  close(): Promise<void>;
}

/** How the attachment conformance suite reaches a store implementation. */
export interface AttachmentStoreHarness {
  /** Shown in the suite's title, for example `"sqlite"`. */
  readonly name: string;
  readonly capabilities: AttachmentStoreCapabilities;
  /** A fresh, empty backend for one test, with the store configured as asked. */
  setup(options: AttachmentStoreSetupOptions): Promise<AttachmentStoreBackend>;
  /** When set and it returns a reason, the whole suite is skipped with that reason in its title. */
  skipReason?(): Promise<string | undefined>;
}
