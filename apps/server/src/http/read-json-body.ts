import { jsonTextDepth } from "@lash/protocol";
import type { z } from "zod";
import { HttpError } from "./http-error.js";
import { requestHeader } from "./request-headers.js";
import { invalidRequest } from "./validation-error.js";

/** The default cap on a request body, in bytes (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Request bodies are small, flat objects: anything nested deeper than this is not one of ours, and
 * refusing it before `JSON.parse` keeps a hostile body from costing more than a scan.
 */
const MAX_BODY_JSON_DEPTH = 32;

/** 415 `unsupported_media_type` unless `request` says its body is JSON. */
export function assertJsonMediaType(request: Request): void {
  if (!isJsonMediaType(requestHeader(request, "content-type")))
    throw new HttpError("unsupported_media_type", "the request body must be application/json");
}

function isJsonMediaType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return mediaType === "application/json" || (mediaType.startsWith("application/") && mediaType.endsWith("+json"));
}

/** One decoder for every body: a whole-buffer `decode` (no `stream` option) keeps no state between calls. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A request body as text, with its size in bytes. */
export interface BodyText {
  readonly text: string;
  readonly bytes: number;
}

function payloadTooLarge(maxBytes: number): HttpError {
  return new HttpError("payload_too_large", `the request body is larger than ${maxBytes} bytes`, { details: { maxBytes } });
}

/** Reads a body of unknown length chunk by chunk, giving up past `maxBytes` (no more than that plus one chunk is held). */
async function readUndeclaredBody(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Reads the body of `request` as UTF-8, refusing more than `maxBytes`. A body with a declared
 * `Content-Length` is refused on that number before anything is read, and otherwise read whole
 * (the HTTP parser never delivers more than the declared length; under `@hono/node-server` this
 * reads the socket without web streams). A body without one (chunked) is counted while it is read.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<BodyText> {
  const declared = requestHeader(request, "content-length");
  let bytes: Uint8Array;
  if (declared !== null && /^[0-9]+$/.test(declared)) {
    if (Number(declared) > maxBytes) throw payloadTooLarge(maxBytes);
    bytes = new Uint8Array(await request.arrayBuffer());
  } else {
    if (request.body === null) return { text: "", bytes: 0 };
    bytes = await readUndeclaredBody(request.body, maxBytes);
  }
  try {
    return { text: utf8.decode(bytes), bytes: bytes.byteLength };
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
  assertJsonMediaType(request);
  return parseJsonBody(await readBodyText(request, maxBytes), schema);
}

/** Parses `body` (a request's text) with `schema`; see `readJsonBody`. */
export function parseJsonBody<Schema extends z.ZodType>(body: BodyText, schema: Schema): z.output<Schema> {
  const text = body.text;
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
