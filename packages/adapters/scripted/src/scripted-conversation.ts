import type { ProviderRetryPolicy } from "@lash/protocol";
import { DEFAULT_PROVIDER_RETRY_POLICY, LashError, markerFor } from "@lash/protocol";
import { z } from "zod";
import { errorStep, textStep, toolCallStep, usage } from "./script-builders.js";
import { ScriptedProvider, type ScriptedStep } from "./scripted-provider.js";

/** The `format` value of a scripted conversation file. */
export const SCRIPTED_CONVERSATION_FORMAT = "lash.scripted-conversation.v1";

const usageSchema = z.strictObject({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  cached: z.number().int().nonnegative().optional(),
  reasoning: z.number().int().nonnegative().optional(),
});

const common = {
  /** Wait this long before the first streamed piece (to show a spinner, or to cancel in tests). */
  delayMs: z.number().int().nonnegative().optional(),
  usage: usageSchema.optional(),
};

const stepSchema = z.union([
  z.strictObject({
    text: z.string(),
    /** Stream the text in this many pieces (default 1). */
    chunks: z.number().int().positive().optional(),
    /** Wait this long between pieces. */
    chunkDelayMs: z.number().int().nonnegative().optional(),
    ...common,
  }),
  z.strictObject({
    toolCalls: z.array(z.strictObject({ name: z.string().min(1), args: z.unknown(), callId: z.string().min(1).optional() })).min(1),
    /** Prose before the calls. */
    text: z.string().optional(),
    ...common,
  }),
  z.strictObject({
    error: z.strictObject({
      message: z.string().min(1),
      status: z.number().int().optional(),
      retryAfterMs: z.number().int().nonnegative().optional(),
    }),
    ...common,
  }),
]);

/**
 * A scripted conversation: one step per model call, played in order (see the README). The file is
 * read once per process, so `lash run` starts at step 1 every time and `lash chat` goes on through
 * the steps turn after turn.
 */
export const scriptedConversationSchema = z.strictObject({
  format: z.literal(SCRIPTED_CONVERSATION_FORMAT),
  /** The model name recorded in the session (default `scripted-model`). */
  model: z.string().min(1).optional(),
  /** Retries of failed steps whose error is retryable (default: none, so a script fails fast). */
  retry: z.strictObject({ maxAttempts: z.number().int().min(1).max(10), delayMs: z.number().int().nonnegative() }).optional(),
  steps: z.array(stepSchema),
});
export type ScriptedConversation = z.infer<typeof scriptedConversationSchema>;

/** The steps as `ScriptedProvider` plays them. */
export function scriptedSteps(conversation: ScriptedConversation): ScriptedStep[] {
  return conversation.steps.map((step): ScriptedStep => {
    const stepUsage =
      step.usage === undefined ? undefined : usage(step.usage.input, step.usage.output, step.usage.cached ?? 0, step.usage.reasoning ?? 0);
    let built: ScriptedStep;
    if ("error" in step) {
      built = errorStep({
        message: step.error.message,
        ...(step.error.status === undefined ? {} : { status: step.error.status }),
        ...(step.error.retryAfterMs === undefined ? {} : { retryAfterMs: step.error.retryAfterMs }),
      });
    } else if ("toolCalls" in step) {
      built = toolCallStep(
        step.toolCalls.map((call) => ({
          name: call.name,
          args: call.args as never,
          ...(call.callId === undefined ? {} : { callId: call.callId }),
        })),
        { ...(step.text === undefined ? {} : { text: step.text }), ...(stepUsage === undefined ? {} : { usage: stepUsage }) },
      );
    } else {
      built = textStep(step.text, { chunks: step.chunks ?? 1, ...(stepUsage === undefined ? {} : { usage: stepUsage }) });
      if (step.chunkDelayMs !== undefined && step.chunkDelayMs > 0) {
        const delay = step.chunkDelayMs;
        built = {
          ...built,
          events: (built.events ?? []).flatMap((event, index) => (index === 0 ? [event] : [{ type: "sleep" as const, ms: delay }, event])),
        };
      }
    }
    return step.delayMs === undefined ? built : { ...built, delayMs: step.delayMs };
  });
}

/** The provider retry policy of a script. */
export function scriptedRetryPolicy(conversation: ScriptedConversation): ProviderRetryPolicy {
  const retry = conversation.retry;
  if (retry === undefined) return { ...DEFAULT_PROVIDER_RETRY_POLICY, enabled: false, maxAttempts: 1 };
  return {
    enabled: true,
    maxAttempts: retry.maxAttempts,
    baseDelayMs: retry.delayMs,
    maxDelayMs: retry.delayMs,
    jitterMs: 0,
    retryAfterCapMs: retry.delayMs,
  };
}

const invalidMarker = markerFor("InvalidScriptedConversationError");
const invalidSymbol = Symbol.for(invalidMarker);

/** A scripted conversation that does not match its format; `problems` names each bad field. */
export class InvalidScriptedConversationError extends LashError {
  readonly [invalidSymbol] = true;
  /** One line per problem: `` `steps.0.text`: expected string ``. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super("invalid_argument", `invalid scripted conversation: ${problems.join("; ")}`);
    this.name = "InvalidScriptedConversationError";
    this.problems = problems;
  }

  static override isInstance(error: unknown): error is InvalidScriptedConversationError {
    return LashError.hasMarker(error, invalidMarker);
  }
}

/**
 * Checks a scripted conversation read from a file or a request (untrusted JSON). A bad document
 * throws `InvalidScriptedConversationError` naming every field that is wrong.
 */
export function parseScriptedConversation(json: unknown): ScriptedConversation {
  const parsed = scriptedConversationSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new InvalidScriptedConversationError(
    parsed.error.issues.map((issue) => `${issue.path.length === 0 ? "" : `\`${issue.path.join(".")}\`: `}${issue.message}`),
  );
}

/** Options of `createScriptedConversationProvider`. */
export interface ScriptedConversationProviderOptions {
  /** The model recorded in the session; default: the conversation's `model`, else `scripted-model`. */
  readonly model?: string;
}

/** A `ScriptedProvider` that plays a conversation's steps in order, with the conversation's retry policy. */
export function createScriptedConversationProvider(
  conversation: ScriptedConversation,
  options: ScriptedConversationProviderOptions = {},
): ScriptedProvider {
  const model = options.model ?? conversation.model ?? "scripted-model";
  return new ScriptedProvider(scriptedSteps(conversation), { defaultModel: model, retryPolicy: scriptedRetryPolicy(conversation) });
}
