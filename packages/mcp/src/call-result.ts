import type { AttachmentStore, JsonObject, JsonValue, ToolExecuteResult } from "@lash/protocol";
import { LashError } from "@lash/protocol";
import { McpServerError } from "./mcp-errors.js";

/** A content block of a `tools/call` result, as the SDK's schema let it through. */
type ContentBlock = { readonly type: string } & Readonly<Record<string, unknown>>;

/** What `callTool` resolved to (the SDK validated the shape; only the fields read here matter). */
export interface CallToolOutcome {
  readonly content?: readonly ContentBlock[];
  readonly structuredContent?: Readonly<Record<string, unknown>>;
  readonly isError?: boolean;
  /** A server of protocol version 2024-10-07 answers with this instead of `content`. */
  readonly toolResult?: unknown;
}

function byteLengthOfBase64(data: string): number {
  return Buffer.byteLength(data, "base64");
}

/** A JSON copy of a value a server sent (its structured content): anything JSON cannot carry is dropped. */
function asJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

/**
 * One content block as the model reads it. An image goes into the attachment store when there is
 * one, and the model sees its reference; without a store, or when the store refuses the bytes (not
 * an image it knows, too large), the model is told an image was left out, and why.
 */
async function mapBlock(block: ContentBlock, attachments: AttachmentStore | undefined): Promise<JsonObject> {
  switch (block.type) {
    case "text":
      return { type: "text", text: String(block.text ?? "") };
    case "image": {
      const data = String(block.data ?? "");
      const mediaType = String(block.mimeType ?? "application/octet-stream");
      if (attachments === undefined) return { type: "image", mediaType, byteLength: byteLengthOfBase64(data), stored: false };
      try {
        const reference = await attachments.put(Buffer.from(data, "base64"), { mediaType });
        return { type: "image", mediaType: reference.mediaType, byteLength: reference.byteLength, attachmentId: reference.id };
      } catch (error) {
        if (!LashError.isInstance(error)) throw error;
        return { type: "image", mediaType, byteLength: byteLengthOfBase64(data), stored: false, problem: error.message };
      }
    }
    case "audio":
      return { type: "audio", mediaType: String(block.mimeType ?? ""), byteLength: byteLengthOfBase64(String(block.data ?? "")) };
    case "resource_link":
      return { type: "resource_link", uri: String(block.uri ?? ""), name: String(block.name ?? "") };
    case "resource": {
      const resource = (block.resource ?? {}) as Readonly<Record<string, unknown>>;
      const uri = String(resource.uri ?? "");
      if (typeof resource.text === "string") return { type: "resource", uri, text: resource.text };
      return {
        type: "resource",
        uri,
        mediaType: String(resource.mimeType ?? ""),
        byteLength: byteLengthOfBase64(String(resource.blob ?? "")),
      };
    }
    default:
      return { type: String(block.type) };
  }
}

/**
 * A `tools/call` result as the tool's value: the text alone when the result is only text, else
 * `{ content, structuredContent? }` with every block mapped. `isError` is the tool's own failure:
 * a `McpServerError` (`mcp_tool_error`) carrying its text, which the model sees; the turn goes on.
 */
export async function toolValueOf(
  server: string,
  result: CallToolOutcome,
  attachments: AttachmentStore | undefined,
): Promise<ToolExecuteResult> {
  if (result.content === undefined && result.toolResult !== undefined) return asJson(result.toolResult);
  const blocks = result.content ?? [];
  if (result.isError === true) {
    const text = blocks
      .filter((block) => block.type === "text")
      .map((block) => String(block.text ?? ""))
      .join("\n");
    throw new McpServerError(server, "tool_error", text === "" ? "the tool reported an error without a message" : text);
  }
  const onlyText = blocks.every((block) => block.type === "text");
  if (onlyText && result.structuredContent === undefined) return blocks.map((block) => String(block.text ?? "")).join("\n");
  const content: JsonObject[] = [];
  for (const block of blocks) content.push(await mapBlock(block, attachments));
  return result.structuredContent === undefined ? { content } : { content, structuredContent: asJson(result.structuredContent) };
}
