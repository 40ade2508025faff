import type { LlmAttachment, LlmRequest } from "@lash/protocol";
import { ProviderCallError } from "@lash/protocol";
import { classifyProviderFailure } from "@lash/provider-utils";

/** A request the adapter cannot send: the caller's mistake, never worth another attempt. */
export function invalidRequest(message: string): ProviderCallError {
  return new ProviderCallError(classifyProviderFailure({ kind: "validation", code: "invalid_request", message, retryable: false }));
}

/** The model to send: the request's, else the provider's default. */
export function modelOf(request: LlmRequest, defaultModel: string | undefined, providerId: string): string {
  const model = request.model.trim() !== "" ? request.model : defaultModel;
  if (model === undefined || model.trim() === "") {
    throw invalidRequest(`${providerId}: the request names no model and the provider has no defaultModel`);
  }
  return model;
}

/** A media type safe to put in a data URL (`type/subtype`, no parameters, no separators). */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;

/** The attachment an image block points at, as a `data:` URL. */
export function imageDataUrl(request: LlmRequest, attachmentIndex: number): string {
  const attachment: LlmAttachment | undefined = request.attachments[attachmentIndex];
  if (attachment === undefined) {
    throw invalidRequest(`an image block points at attachment ${attachmentIndex}, but the request has ${request.attachments.length}`);
  }
  if (!MEDIA_TYPE.test(attachment.mediaType)) {
    throw invalidRequest(`attachment ${attachmentIndex} has an invalid media type ${JSON.stringify(attachment.mediaType)}`);
  }
  const base64 = Buffer.from(attachment.data.buffer, attachment.data.byteOffset, attachment.data.byteLength).toString("base64");
  return `data:${attachment.mediaType.toLowerCase()};base64,${base64}`;
}

/**
 * Joins the text of several parts the way an answer reads: exactly one blank line between them
 * (counting newlines already there), nothing added around the first.
 */
export function joinTexts(texts: readonly string[]): string {
  let joined = "";
  for (const text of texts) {
    if (text === "") continue;
    if (joined !== "") {
      const trailing = joined.length - joined.replace(/\n+$/, "").length;
      const leading = text.length - text.replace(/^\n+/, "").length;
      joined += "\n".repeat(Math.max(0, 2 - trailing - leading));
    }
    joined += text;
  }
  return joined;
}
