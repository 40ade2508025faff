import type { JsonValue, ToolCallRecord, ToolDefinition, ToolProvider } from "@lash/protocol";
import { ATTACHMENT_TEXT_REFERENCE_PREFIX, ToolError } from "@lash/protocol";
import type { SessionCore } from "../runtime/session-core.js";
import { renderToolOutputForModel } from "../tools/tool-output.js";
import { toolOutputBudgetOf } from "./context-settings.js";
import { callContextWindow } from "./context-window.js";
import { READ_TOOL_OUTPUT_NAME } from "./tool-output-budget.js";
import { resolveToolOutputLimit, type ToolOutputBudgetOptions } from "./tool-output-limits.js";

/** Lines one page has unless the model asks for another count. */
const DEFAULT_PAGE_LINES = 500;

const decoder = new TextDecoder();
/** An attachment id: the hex SHA-256 of the bytes. */
const ATTACHMENT_ID = /^[0-9a-f]{64}$/;
const encoder = new TextEncoder();

interface ReadArguments {
  readonly id: string;
  readonly offset: number;
  readonly limit: number | undefined;
  readonly unit: "lines" | "bytes";
}

function readArguments(args: JsonValue): ReadArguments {
  const record = (typeof args === "object" && args !== null && !Array.isArray(args) ? args : {}) as Record<string, JsonValue>;
  const offset = typeof record.offset === "number" ? record.offset : 0;
  return {
    id: typeof record.id === "string" ? record.id : "",
    offset: Math.max(0, Math.floor(offset)),
    limit: typeof record.limit === "number" ? Math.max(1, Math.floor(record.limit)) : undefined,
    unit: record.unit === "bytes" ? "bytes" : "lines",
  };
}

function notFound(id: string): ToolError {
  return new ToolError({
    class: "not_found",
    code: "tool_output_not_found",
    message: `no stored tool output has the id \`${id}\` (use the id from the marker of a cut tool result)`,
  });
}

/** The newest record of call `callId`: on the active path, else in the store (a historic node). */
async function recordOf(core: SessionCore, callId: string): Promise<ToolCallRecord | undefined> {
  const path = core.graph.activePath();
  for (let index = path.length - 1; index >= 0; index -= 1) {
    const payload = path[index]?.payload;
    if (payload?.kind === "tool_invocation" && payload.record.callId === callId) return payload.record;
  }
  const resident = core.graph.node(`tool:${callId}`);
  const node = resident ?? (await core.store?.loadNode(`tool:${callId}`));
  return node?.payload.kind === "tool_invocation" ? node.payload.record : undefined;
}

/** The full text behind an id of a cut marker: an attachment (`lash-attachment:<id>`, or the bare id), or `call:<callId>`. */
async function fullOutput(core: SessionCore, id: string): Promise<string | undefined> {
  const attachmentId = id.startsWith(ATTACHMENT_TEXT_REFERENCE_PREFIX) ? id.slice(ATTACHMENT_TEXT_REFERENCE_PREFIX.length) : id;
  if (ATTACHMENT_ID.test(attachmentId)) {
    const bytes = await core.environment.core.attachmentStore.get(attachmentId);
    return bytes === undefined ? undefined : decoder.decode(bytes);
  }
  if (id.startsWith("call:")) {
    const record = await recordOf(core, id.slice("call:".length));
    return record === undefined ? undefined : renderToolOutputForModel(record.output);
  }
  return undefined;
}

function pageByLines(text: string, id: string, offset: number, lines: number, maxBytes: number): string {
  let start = 0;
  let line = 0;
  while (line < offset) {
    const next = text.indexOf("\n", start);
    if (next < 0) return `[line ${offset} is past the end: the output has ${line + 1} lines]`;
    start = next + 1;
    line += 1;
  }
  let end = start;
  let taken = 0;
  while (taken < lines && end < text.length) {
    const next = text.indexOf("\n", end);
    const candidate = next < 0 ? text.length : next + 1;
    if (taken > 0 && encoder.encode(text.slice(start, candidate)).byteLength > maxBytes) break;
    end = candidate;
    taken += 1;
  }
  let page = text.slice(start, end);
  if (encoder.encode(page).byteLength > maxBytes) page = decoder.decode(encoder.encode(page).slice(0, maxBytes));
  const more = end < text.length;
  const next = more ? `; next page: ${READ_TOOL_OUTPUT_NAME}({"id":"${id}","offset":${offset + taken}})` : "; end of the output";
  return `[lines ${offset}-${offset + taken - 1}${next}]\n${page}`;
}

function pageByBytes(text: string, id: string, offset: number, count: number): string {
  const bytes = encoder.encode(text);
  if (offset >= bytes.byteLength) return `[byte ${offset} is past the end: the output has ${bytes.byteLength} bytes]`;
  const end = Math.min(bytes.byteLength, offset + count);
  const more = end < bytes.byteLength;
  const next = more ? `; next page: ${READ_TOOL_OUTPUT_NAME}({"id":"${id}","offset":${end},"unit":"bytes"})` : "; end of the output";
  return `[bytes ${offset}-${end - 1} of ${bytes.byteLength}${next}]\n${decoder.decode(bytes.slice(offset, end))}`;
}

/**
 * The session behind a call's `context.sessions` (each session core has its own manager): the one
 * definition of the tool serves every session, so its spec is built and checked once per process.
 */
const sessionsOwners = new WeakMap<object, SessionCore>();

/** The `read_tool_output` tool: pages through the full outputs of cut tool results. */
export const readToolOutputTool: ToolDefinition<unknown> = {
  name: READ_TOOL_OUTPUT_NAME,
  description:
    'Read the full output of a tool result that was cut to fit the context (its marker names the id). Pages by lines from `offset` (0-based line), or by bytes with unit "bytes".',
  inputSchema: {
    type: "object",
    properties: {
      id: { type: "string", description: "The id in the cut marker." },
      offset: { type: "integer", minimum: 0, description: 'The first line (0-based), or the first byte with unit "bytes". Default 0.' },
      limit: { type: "integer", minimum: 1, description: "Lines (or bytes) to read. Default: a page within the output budget." },
      unit: { type: "string", enum: ["lines", "bytes"], description: "Page by lines (default) or bytes." },
    },
    required: ["id"],
    additionalProperties: false,
  },
  async execute(input, context) {
    const core = sessionsOwners.get(context.sessions);
    const args = readArguments(input as JsonValue);
    const text = core === undefined ? undefined : await fullOutput(core, args.id);
    if (core === undefined || text === undefined) throw notFound(args.id);
    const budget = toolOutputBudgetOf(core) ?? {};
    const window = callContextWindow(core.policy, core.policy.model);
    const limit = resolveToolOutputLimit(budget, READ_TOOL_OUTPUT_NAME, undefined, window) ?? {
      maxBytes: 50_000,
      maxLines: DEFAULT_PAGE_LINES,
    };
    return args.unit === "bytes"
      ? pageByBytes(text, args.id, args.offset, Math.min(args.limit ?? limit.maxBytes, limit.maxBytes))
      : pageByLines(text, args.id, args.offset, Math.min(args.limit ?? DEFAULT_PAGE_LINES, limit.maxLines), limit.maxBytes);
  },
};

const readToolProvider: ToolProvider = { listTools: () => [readToolOutputTool] };

/**
 * The tool providers of a turn with the context tools added: `read_tool_output` when the budget is
 * on and the turn has tools of its own (without tools no output is ever cut).
 */
export function withContextTools(
  core: SessionCore,
  budget: ToolOutputBudgetOptions | undefined,
  providers: ToolProvider[],
): ToolProvider[] {
  if (budget === undefined || providers.length === 0) return providers;
  sessionsOwners.set(core.sessions, core);
  providers.push(readToolProvider);
  return providers;
}
