import { Buffer } from "node:buffer";
import type { AttachmentStore } from "@lash/protocol";
import { attachmentTextReference } from "@lash/protocol";
import type { SessionCore } from "../runtime/session-core.js";
import type { ToolSurface } from "../tools/tool-surface.js";
import { callContextWindow } from "./context-window.js";
import { type ResolvedToolOutputLimit, resolveToolOutputLimit, type ToolOutputBudgetOptions } from "./tool-output-limits.js";

/** The name of the built-in tool that pages through cut tool outputs. */
export const READ_TOOL_OUTPUT_NAME = "read_tool_output";

/** The media type full tool outputs are stored with. */
export const TOOL_OUTPUT_MEDIA_TYPE = "text/plain; charset=utf-8";

/** Cuts the tool results of one turn to the budget (see `withToolOutputBudget`). */
export interface ToolOutputBudgeter {
  /** What the model reads of a tool result: `text` when it is within the limits, else an excerpt. */
  fit(text: string, call: { readonly toolName: string; readonly callId: string | undefined }): Promise<string>;
}

const encoder = new TextEncoder();

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** The number of lines of `text`, counting no further than `stopAfter` (a line is what `\n` ends). */
function countLines(text: string, stopAfter = Number.POSITIVE_INFINITY): number {
  let lines = 1;
  for (let index = text.indexOf("\n"); index >= 0 && lines <= stopAfter; index = text.indexOf("\n", index + 1)) lines += 1;
  return lines;
}

/** The longest start of `text` within `lines` lines and `bytes` bytes, ending at a line end when one is near. */
function headOf(text: string, lines: number, bytes: number): string {
  let end = 0;
  for (let line = 0; line < lines; line += 1) {
    const next = text.indexOf("\n", end);
    if (next < 0) {
      end = text.length;
      break;
    }
    end = next + 1;
  }
  let head = text.slice(0, Math.min(end, bytes));
  while (head.length > 0 && utf8Length(head) > bytes) head = head.slice(0, Math.floor(head.length * 0.9));
  const lastBreak = head.lastIndexOf("\n");
  return lastBreak >= head.length / 2 ? head.slice(0, lastBreak + 1) : head;
}

/** The longest end of `text` within `lines` lines and `bytes` bytes, starting at a line start when one is near. */
function tailOf(text: string, lines: number, bytes: number): string {
  let start = text.length;
  for (let line = 0; line < lines; line += 1) {
    const previous = text.lastIndexOf("\n", start - 2);
    if (previous < 0) {
      start = 0;
      break;
    }
    start = previous + 1;
  }
  let tail = text.slice(Math.max(start, text.length - bytes));
  while (tail.length > 0 && utf8Length(tail) > bytes) tail = tail.slice(Math.ceil(tail.length * 0.1));
  const firstBreak = tail.indexOf("\n");
  return firstBreak >= 0 && firstBreak < tail.length / 2 ? tail.slice(firstBreak + 1) : tail;
}

/**
 * Where the full output lives: the attachment store (the reference's id), or, when the store
 * refuses the bytes (a store that keeps only images), the call's record in the session
 * (`call:<callId>`). `undefined` when neither can give it back.
 */
async function storeFullOutput(
  store: AttachmentStore,
  text: string,
  toolName: string,
  callId: string | undefined,
): Promise<string | undefined> {
  try {
    const label = callId === undefined ? `tool-output:${toolName}` : `tool-output:${toolName}:${callId}`;
    const ref = await store.put(encoder.encode(text), { mediaType: TOOL_OUTPUT_MEDIA_TYPE, label });
    // Named in the marker as a text reference: the stored marker is what keeps the blob from `gc`.
    return attachmentTextReference(ref.id);
  } catch {
    return callId === undefined ? undefined : `call:${callId}`;
  }
}

/** The excerpt the model reads of a result past `limit`: head, a marker saying how to read the rest, tail. */
export async function cutToolOutput(
  text: string,
  limit: ResolvedToolOutputLimit,
  store: AttachmentStore,
  call: { readonly toolName: string; readonly callId: string | undefined },
): Promise<string> {
  // A UTF-16 unit is at most 3 bytes of UTF-8: a short text needs no measuring.
  const withinBytes = text.length * 3 <= limit.maxBytes || utf8Length(text) <= limit.maxBytes;
  if (withinBytes && countLines(text, limit.maxLines) <= limit.maxLines) return text;
  const totalBytes = utf8Length(text);
  const totalLines = countLines(text);
  // About 60% of the budget for the head, 30% for the tail, the rest for the marker.
  const head = headOf(text, Math.floor(limit.maxLines * 0.6), Math.floor(limit.maxBytes * 0.6));
  const tail = tailOf(text.slice(head.length), Math.floor(limit.maxLines * 0.3), Math.floor(limit.maxBytes * 0.3));
  const headLines = head === "" ? 0 : countLines(head) - (head.endsWith("\n") ? 1 : 0);
  const shownBytes = utf8Length(head) + utf8Length(tail);
  const id = await storeFullOutput(store, text, call.toolName, call.callId);
  const omittedLines = Math.max(0, totalLines - headLines - (tail === "" ? 0 : countLines(tail)));
  const how =
    id === undefined
      ? "The full output could not be stored."
      : `Read the rest with ${READ_TOOL_OUTPUT_NAME}({"id":"${id}","offset":${headLines}}) (pages of lines; "unit":"bytes" pages by byte offset).`;
  const marker = `[... output cut: ${omittedLines} of ${totalLines} lines (${totalBytes - shownBytes} of ${totalBytes} bytes) not shown here. ${how} ...]`;
  return `${head}${head.endsWith("\n") || head === "" ? "" : "\n"}${marker}\n${tail}`;
}

/**
 * The budgeter of one turn on `surface`, or `undefined` when the runtime's budget is off. Limits are
 * per tool (see `resolveToolOutputLimit`); the full output of a cut result goes to the session's
 * attachment store.
 */
export function turnToolOutputBudget(
  core: SessionCore,
  budget: ToolOutputBudgetOptions | undefined,
  model: string,
  surface: ToolSurface,
): ToolOutputBudgeter | undefined {
  if (budget === undefined) return undefined;
  const window = callContextWindow(core.policy, model);
  return {
    async fit(text, call) {
      // The reader's pages are within the budget already: cutting them again would only hide the marker's numbers.
      if (call.toolName === READ_TOOL_OUTPUT_NAME) return text;
      const limit = resolveToolOutputLimit(budget, call.toolName, surface.get(call.toolName)?.definition, window);
      if (limit === undefined) return text;
      return await cutToolOutput(text, limit, core.environment.core.attachmentStore, call);
    },
  };
}
