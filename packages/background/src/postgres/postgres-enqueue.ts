import {
  type BackgroundTaskAttempt,
  type BackgroundTaskRegisterRequest,
  backgroundTaskRegisterRequestSchema,
  type JsonValue,
  jsonValueSchema,
  LashError,
  parseBackgroundTaskArgument,
} from "@lash/protocol";
import { z } from "zod";
import type { ResolvedHostOptions } from "./postgres-host-options.js";
import { assertTaskName } from "./postgres-host-options.js";
import type { PostgresQueryable } from "./postgres-queryable.js";

/**
 * What `enqueue` takes: a register request (id, scope, kind, producer, policies, `attempt.maxAttempts`)
 * plus the named task to run and its JSON input.
 */
export interface DurableTaskRequest extends BackgroundTaskRegisterRequest {
  /** The name of the work, as the worker processes define it in their `tasks` option. */
  readonly task: string;
  /** Handed to the work as `context.input` (JSON; default `null`). */
  readonly input?: JsonValue;
  /** This task's lease, in seconds: how long its worker may go without renewing it (default: the host's `leaseSeconds`). */
  readonly leaseSeconds?: number;
  /** Seconds before a failed attempt is retried (default: the host's `retryDelaySeconds`). */
  readonly retryDelaySeconds?: number;
}

/** Options of `enqueue`. */
export interface EnqueueOptions {
  /**
   * A `pg` client inside a transaction the caller began (and will commit or roll back). The task's
   * record, its `registered` event and its pg-boss job are written through it, so they exist exactly
   * when that transaction commits. The event-log lock is taken in that transaction and held until it
   * ends: commit promptly, and do not wait on other changes of this host (or of any host on the same
   * schema) before it ends, since they wait for that lock. Several enqueues in one transaction are fine.
   */
  readonly transaction?: PostgresQueryable;
}

/** An enqueue request, checked, with the host's defaults applied. */
export interface ParsedEnqueueRequest {
  readonly identity: Omit<z.output<typeof backgroundTaskRegisterRequestSchema>, "attempt">;
  readonly attempt: Omit<BackgroundTaskAttempt, "attempt">;
  readonly task: string;
  readonly input: JsonValue;
  readonly leaseSeconds: number;
  readonly retryDelaySeconds: number;
}

const extrasSchema = z.object({
  task: z.string().min(1),
  input: jsonValueSchema.optional(),
  leaseSeconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 60 * 60 - 1)
    .optional(),
  retryDelaySeconds: z.number().int().nonnegative().optional(),
});

/** Checks an enqueue request; a bad field is a `LashError("invalid_argument")` naming it. */
export function parseEnqueueRequest(request: DurableTaskRequest, options: ResolvedHostOptions): ParsedEnqueueRequest {
  if (typeof request !== "object" || request === null)
    throw new LashError("invalid_argument", "invalid enqueue request: expected an object");
  const { task, input, leaseSeconds, retryDelaySeconds, ...registration } = request;
  const extras = parseBackgroundTaskArgument(extrasSchema, { task, input, leaseSeconds, retryDelaySeconds }, "enqueue request");
  assertTaskName(extras.task, "enqueue request");
  const parsed = parseBackgroundTaskArgument(backgroundTaskRegisterRequestSchema, registration, "enqueue request");
  const { attempt, ...identity } = parsed;
  const { attempt: _current, ...attemptPolicy } = attempt ?? { attempt: 0 };
  return {
    identity,
    attempt: attemptPolicy,
    task: extras.task,
    input: extras.input ?? null,
    leaseSeconds: extras.leaseSeconds ?? options.leaseSeconds,
    retryDelaySeconds: extras.retryDelaySeconds ?? options.retryDelaySeconds,
  };
}
