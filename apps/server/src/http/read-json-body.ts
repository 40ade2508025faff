import { jsonTextDepth } from "@lash/protocol";
import type { z } from "zod";
import { HttpError } from "./http-error.js";
import { invalidRequest } from "./validation-error.js";

/** The default cap on a request body, in bytes (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Request bodies are small, flat objects: anything nested deeper than this is not one of ours, and
 * refusing it before `JSON.parse` keeps a hostile body from costing more than a scan.
 */
const MAX_BODY_JSON_DEPTH = 32;

function isJsonMediaType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return mediaType === "application/json" || (mediaType.startsWith("application/") && mediaType.endsWith("+json"));
}

/**
 * Reads the body of `request` as UTF-8, refusing more than `maxBytes`: first by the declared
 * `Content-Length` (nothing is read), then by counting while reading (a client may lie or stream
 * without a length), so no more than `maxBytes` plus one chunk is ever held.
 */
async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new HttpError("payload_too_large", `the request body is larger than ${maxBytes} bytes`, { details: { maxBytes } });
  const declared = request.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge();
  const body = request.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError("malformed_json", "the request body is not valid UTF-8");
  }
}

/**
 * Reads a JSON request body and validates it with `schema`: a body that is not `application/json`
 * (415), larger than `maxBytes` (413), not JSON or nested too deep (400 `malformed_json`), or not
 * what the schema accepts, unknown fields included (400 `invalid_request`, each problem with its
 * path), is refused before anything happens.
 */
export async function readJsonBody<Schema extends z.ZodType>(
  request: Request,
  schema: Schema,
  maxBytes: number,
): Promise<z.output<Schema>> {
  if (!isJsonMediaType(request.headers.get("content-type")))
    throw new HttpError("unsupported_media_type", "the request body must be application/json");
  const text = await readBoundedText(request, maxBytes);
  if (jsonTextDepth(text, MAX_BODY_JSON_DEPTH) > MAX_BODY_JSON_DEPTH)
    throw new HttpError("malformed_json", `the request body is nested deeper than ${MAX_BODY_JSON_DEPTH} levels`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HttpError("malformed_json", `the request body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidRequest("the request body", parsed.error);
  return parsed.data;
}
