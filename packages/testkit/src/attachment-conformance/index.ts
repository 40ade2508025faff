export { sessionStoreReferences } from "./attachment-fixtures.js";
export { describeAttachmentStoreConformance } from "./describe-attachment-store-conformance.js";
export type {
  AttachmentStoreBackend,
  AttachmentStoreCapabilities,
  AttachmentStoreHarness,
  AttachmentStoreSetupOptions,
} from "./harness.js";
