import { z } from "zod";
import { parseJsonPath } from "./json-path.js";

/** The format identifier every wire script carries in `schema`. */
export const WIRE_SCRIPT_FORMAT = "lash.provider-wire-script.v1";

const headerListSchema = z.array(z.strictObject({ name: z.string().min(1), value: z.string() }));
const statusSchema = z.number().int().min(100).max(599);
/** Milliseconds since the request arrived. */
const atSchema = z.number().finite().nonnegative();

/** One timeline event of a wire script (see the fixtures' README for what the server does with each). */
export const wireScriptEventSchema = z.discriminatedUnion("event", [
  z.strictObject({ at: atSchema, event: z.literal("response_start"), status: statusSchema, headers: headerListSchema.default([]) }),
  z.strictObject({ at: atSchema, event: z.literal("sse"), data: z.string() }),
  z
    .strictObject({
      at: atSchema,
      event: z.literal("chunk"),
      data: z.string().optional(),
      bytes: z.array(z.number().int().min(0).max(255)).optional(),
    })
    .refine((chunk) => (chunk.data === undefined) !== (chunk.bytes === undefined), {
      message: "a chunk has exactly one of `data` (text) and `bytes` (byte values)",
    }),
  z.strictObject({ at: atSchema, event: z.literal("body"), data: z.string() }),
  z.strictObject({ at: atSchema, event: z.literal("end") }),
  z.strictObject({
    at: atSchema,
    event: z.literal("http_error"),
    status: statusSchema,
    headers: headerListSchema.default([]),
    body: z.string().default(""),
  }),
  z.strictObject({ at: atSchema, event: z.literal("disconnect"), message: z.string().optional(), retryable: z.boolean().optional() }),
  z.strictObject({ at: atSchema, event: z.literal("timeout"), message: z.string().optional() }),
]);
export type WireScriptEvent = z.infer<typeof wireScriptEventSchema>;

/**
 * A condition on one request value:
 * - `equals`: the value is deep-equal to this JSON value;
 * - `contains`: a string value contains this text, or an array value has an element equal to it;
 * - `contains_role`: the value is an array with an element whose `role` is this;
 * - `present`: the value (or header) exists (`true`) or does not (`false`).
 */
export const wireScriptMatcherSchema = z.union([
  z.strictObject({ equals: z.json() }),
  z.strictObject({ contains: z.json() }),
  z.strictObject({ contains_role: z.string() }),
  z.strictObject({ present: z.boolean() }),
]);
export type WireScriptMatcher = z.infer<typeof wireScriptMatcherSchema>;

/**
 * What a request must look like. Body keys are JSON paths (`messages[0].role`,
 * `request.contents[0].parts[0].text`); header names are compared in lower case.
 */
export const wireScriptRequestMatchSchema = z.strictObject({
  body: z
    .record(
      z.string().refine((path) => parseJsonPath(path) !== undefined, { message: "not a JSON path such as messages[0].role" }),
      wireScriptMatcherSchema,
    )
    .optional(),
  headers: z.record(z.string().min(1), wireScriptMatcherSchema).optional(),
});
export type WireScriptRequestMatch = z.infer<typeof wireScriptRequestMatchSchema>;

/**
 * What an adapter should conclude from a script. Every field is optional; the scripts use
 * `terminal_reason`, `text`, `tool_names` for successes, `status`, `retryable_after_classification`,
 * `kind` (`Timeout`, ...), `code`, `retryable`, `stream_failure`, `stream_error` and
 * `stream_events_committed` for failures. Unknown fields are kept.
 */
export const wireScriptExpectationSchema = z.looseObject({
  terminal_reason: z.string().optional(),
  text: z.string().optional(),
  tool_names: z.array(z.string()).optional(),
  status: statusSchema.optional(),
  retryable_after_classification: z.boolean().optional(),
  retryable: z.boolean().optional(),
  kind: z.string().optional(),
  code: z.string().optional(),
  stream_failure: z.boolean().optional(),
  stream_error: z.string().optional(),
  stream_events_committed: z.number().int().nonnegative().optional(),
});
export type WireScriptExpectation = z.infer<typeof wireScriptExpectationSchema>;

/** Events after which nothing more can be sent. */
const TERMINAL_EVENTS = new Set(["end", "http_error", "disconnect", "timeout"]);
/** Events that write body bytes, so need the response to have started. */
const BODY_EVENTS = new Set(["sse", "chunk", "body"]);

/** A whole wire script (`schema: "lash.provider-wire-script.v1"`). */
export const wireScriptSchema = z
  .looseObject({
    schema: z.literal(WIRE_SCRIPT_FORMAT),
    name: z.string().min(1),
    provider_kind: z.string().min(1),
    endpoint: z.strictObject({
      method: z
        .string()
        .min(1)
        .transform((method) => method.toUpperCase()),
      path: z.string().startsWith("/"),
    }),
    request_match: wireScriptRequestMatchSchema.default({}),
    timeline: z.array(wireScriptEventSchema).min(1),
    expected_provider: wireScriptExpectationSchema.optional(),
    provenance: z.looseObject({}).optional(),
  })
  .superRefine((script, context) => {
    let previousAt = 0;
    let started = false;
    let terminalIndex: number | undefined;
    script.timeline.forEach((event, index) => {
      if (event.at < previousAt) {
        context.addIssue({
          code: "custom",
          path: ["timeline", index, "at"],
          message: `at ${event.at} is earlier than the previous event's ${previousAt}`,
        });
      }
      previousAt = Math.max(previousAt, event.at);
      if (terminalIndex !== undefined) {
        context.addIssue({
          code: "custom",
          path: ["timeline", index, "event"],
          message: `nothing can follow the ${script.timeline[terminalIndex]?.event} at timeline[${terminalIndex}]`,
        });
      }
      if (event.event === "response_start") {
        if (started) context.addIssue({ code: "custom", path: ["timeline", index, "event"], message: "the response already started" });
        started = true;
      }
      if (event.event === "http_error" && started) {
        context.addIssue({
          code: "custom",
          path: ["timeline", index, "event"],
          message: "http_error after response_start: the status was already sent",
        });
      }
      if (BODY_EVENTS.has(event.event) && !started && event.event !== "body") {
        context.addIssue({ code: "custom", path: ["timeline", index, "event"], message: `${event.event} before response_start` });
      }
      if (TERMINAL_EVENTS.has(event.event) && terminalIndex === undefined) terminalIndex = index;
    });
  });
/** A validated wire script. */
export type WireScript = z.infer<typeof wireScriptSchema>;
