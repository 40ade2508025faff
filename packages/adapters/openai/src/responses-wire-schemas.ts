import { z } from "zod";

/**
 * The parts of Responses API objects the adapter reads. Every object is loose (new fields are
 * ignored) and every field the adapter can do without is optional: the server is not trusted to
 * send what the documentation promises, only to send values of the right type when it sends them.
 */

const textContentSchema = z.looseObject({
  type: z.string().nullish(),
  text: z.string().nullish(),
  refusal: z.string().nullish(),
});

export const messageItemSchema = z.looseObject({
  type: z.literal("message"),
  id: z.string().nullish(),
  status: z.string().nullish(),
  phase: z.string().nullish(),
  content: z.array(textContentSchema).nullish(),
});

export const reasoningItemSchema = z.looseObject({
  type: z.literal("reasoning"),
  id: z.string().nullish(),
  summary: z.array(z.looseObject({ text: z.string().nullish() })).nullish(),
  content: z.array(z.looseObject({ text: z.string().nullish() })).nullish(),
  encrypted_content: z.string().nullish(),
});

export const functionCallItemSchema = z.looseObject({
  type: z.literal("function_call"),
  id: z.string().nullish(),
  call_id: z.string().nullish(),
  name: z.string().nullish(),
  arguments: z.string().nullish(),
});

const outputIndexSchema = z.number().int().nonnegative().nullish();

/** Every event carries its type; the rest is read per type. */
export const eventTypeSchema = z.looseObject({ type: z.string() });

export const itemEventSchema = z.looseObject({
  output_index: outputIndexSchema,
  /** Checked by `type` (see `parseOutputItem`), so a bad field of a known kind is reported. */
  item: z.unknown(),
});

export const deltaEventSchema = z.looseObject({
  output_index: outputIndexSchema,
  item_id: z.string().nullish(),
  summary_index: z.number().int().nonnegative().nullish(),
  delta: z.string(),
});

export const refusalDoneEventSchema = z.looseObject({
  output_index: outputIndexSchema,
  item_id: z.string().nullish(),
  refusal: z.string(),
});

export const argumentsDoneEventSchema = z.looseObject({
  output_index: outputIndexSchema,
  item_id: z.string().nullish(),
  arguments: z.string(),
});

export const responseObjectSchema = z.looseObject({
  id: z.string().nullish(),
  status: z.string().nullish(),
  output: z.array(z.unknown()).nullish(),
  usage: z.unknown().optional(),
  incomplete_details: z.looseObject({ reason: z.string().nullish() }).nullish(),
  error: z.unknown().optional(),
});
export type ResponseObject = z.output<typeof responseObjectSchema>;

export const responseEventSchema = z.looseObject({ response: responseObjectSchema });

export const errorEventSchema = z.looseObject({
  code: z.union([z.string(), z.number()]).nullish(),
  message: z.string().nullish(),
});
