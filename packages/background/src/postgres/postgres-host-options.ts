import { type BackgroundTaskOutcome, type BackgroundTaskWorkContext, type JsonValue, LashError } from "@lash/protocol";
import type pg from "pg";

/** What a named task's work receives: the managed-work context plus the JSON input it was enqueued with. */
export interface DurableTaskWorkContext extends BackgroundTaskWorkContext {
  /** The `input` given to `enqueue` (`null` when none was given). */
  readonly input: JsonValue;
}

/**
 * The work of a named task, run by whichever worker process claims it. Resolving completes the task
 * with the outcome as `result`; throwing fails the attempt (retried while `attempt.maxAttempts`
 * allows, possibly in another process). Its `signal` aborts when a cancel is requested, when this
 * host closes, or when the attempt loses its lease: its renewals failed for a whole lease (the
 * database was out of reach), another worker took the task over, or the attempt reached pg-boss's
 * limit of one day per job.
 */
export type DurableTaskWork = (context: DurableTaskWorkContext) => Promise<BackgroundTaskOutcome | undefined | void>;

/** How to open a `PostgresBackgroundTaskHost`. Give exactly one of `connectionString` and `pool`. */
export interface PostgresBackgroundTaskHostOptions {
  /** A `postgres://` URL; the host opens (and closes) its own pool. */
  readonly connectionString?: string;
  /** A pool the caller owns (the host never ends it). */
  readonly pool?: pg.Pool;
  /** Schema of the lash tables (`lash_background_tasks`, `lash_background_events`). Default `"lash_background"`. */
  readonly schema?: string;
  /** Schema of pg-boss's tables (pg-boss creates and migrates it). Default `"pgboss"`. */
  readonly bossSchema?: string;
  /** Prefix of the pg-boss queue of each named task (`<prefix><task name>`). Default `"lash-task-"`. */
  readonly queuePrefix?: string;
  /** The named tasks this process runs; it claims work only for these. Default: none (a host that only enqueues and observes). */
  readonly tasks?: Readonly<Record<string, DurableTaskWork>>;
  /** How many named attempts this process runs at once. Default 4; 0 never claims work. */
  readonly concurrency?: number;
  /**
   * Default lease of a named task's attempt, in seconds. The worker renews it (and its pg-boss job's
   * heartbeat) every third of it while the attempt runs, so it bounds how long a worker that stopped
   * (crashed, killed, cut off from the database) holds its task before the task is retried or failed,
   * not how long an attempt may run. Default 300.
   */
  readonly leaseSeconds?: number;
  /** Lease of in-process work (`spawnManaged`, `registerExternal`), renewed while this process lives. Default 30. */
  readonly inProcessLeaseSeconds?: number;
  /** Seconds before a failed named attempt is retried (pg-boss `retryDelay`). Default 0. */
  readonly retryDelaySeconds?: number;
  /** How often the event log and the queues are polled besides LISTEN/NOTIFY, in milliseconds. Default 1000. */
  readonly pollIntervalMs?: number;
  /** How often expired leases are looked for, in seconds (pg-boss maintains its own tables on its own schedule). Default 30. */
  readonly maintenanceIntervalSeconds?: number;
  /** Events older than this are deleted from the log (subscribers read recent events; records stay). Default 168 (a week). */
  readonly eventRetentionHours?: number;
  /**
   * Called with failures of background activity (a lost listener, a failed poll, a final write that
   * could not be made). Default: one line on stderr per failure, prefixed `[lash background]`.
   */
  readonly onError?: (error: unknown) => void;
}

/** The options with their defaults applied and checked. */
export interface ResolvedHostOptions {
  readonly schema: string;
  readonly bossSchema: string;
  readonly queuePrefix: string;
  readonly tasks: ReadonlyMap<string, DurableTaskWork>;
  readonly concurrency: number;
  readonly leaseSeconds: number;
  readonly inProcessLeaseSeconds: number;
  readonly retryDelaySeconds: number;
  readonly pollIntervalMs: number;
  readonly maintenanceIntervalSeconds: number;
  readonly eventRetentionHours: number;
  readonly onError: (error: unknown) => void;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,49}$/;
const TASK_NAME = /^[A-Za-z0-9_.:-]+$/;

function invalid(message: string): never {
  throw new LashError("invalid_configuration", `PostgresBackgroundTaskHost: ${message}`);
}

function positiveInteger(value: number | undefined, name: string, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < minimum) invalid(`\`${name}\` must be an integer of at least ${minimum} (got ${String(value)})`);
  return value;
}

/** Checks a named task's name (it becomes part of a pg-boss queue name). */
export function assertTaskName(name: string, what: string): void {
  if (typeof name !== "string" || !TASK_NAME.test(name)) {
    throw new LashError(
      "invalid_argument",
      `invalid ${what}: task name \`${String(name)}\` must be letters, digits, \`_\`, \`.\`, \`:\` or \`-\``,
    );
  }
}

/** The default `onError`: background failures must not pass silently, but they must not stop the host either. */
function reportToStandardError(error: unknown): void {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`[lash background] ${detail}`);
}

/** Applies defaults and checks every option; a bad one is a `LashError("invalid_configuration")` naming it. */
export function resolveHostOptions(options: PostgresBackgroundTaskHostOptions): ResolvedHostOptions {
  if ((options.connectionString === undefined) === (options.pool === undefined))
    invalid("give exactly one of `connectionString` and `pool`");
  const schema = options.schema ?? "lash_background";
  const bossSchema = options.bossSchema ?? "pgboss";
  if (!IDENTIFIER.test(schema)) invalid(`\`schema\` must be a plain identifier of at most 50 characters (got \`${schema}\`)`);
  if (!IDENTIFIER.test(bossSchema)) invalid(`\`bossSchema\` must be a plain identifier of at most 50 characters (got \`${bossSchema}\`)`);
  const queuePrefix = options.queuePrefix ?? "lash-task-";
  if (!/^[A-Za-z0-9_.:-]*$/.test(queuePrefix))
    invalid(`\`queuePrefix\` must be letters, digits, \`_\`, \`.\`, \`:\` or \`-\` (got \`${queuePrefix}\`)`);
  const tasks = new Map<string, DurableTaskWork>();
  for (const [name, work] of Object.entries(options.tasks ?? {})) {
    if (!TASK_NAME.test(name)) invalid(`task name \`${name}\` must be letters, digits, \`_\`, \`.\`, \`:\` or \`-\``);
    if (typeof work !== "function") invalid(`task \`${name}\` must be a function`);
    tasks.set(name, work);
  }
  const leaseSeconds = positiveInteger(options.leaseSeconds, "leaseSeconds", 300);
  // pg-boss ends every attempt after a day, so a lease that long would never run out first.
  if (leaseSeconds >= 24 * 60 * 60) invalid(`\`leaseSeconds\` must be less than a day (got ${leaseSeconds})`);
  return {
    schema,
    bossSchema,
    queuePrefix,
    tasks,
    concurrency: positiveInteger(options.concurrency, "concurrency", 4, 0),
    leaseSeconds,
    inProcessLeaseSeconds: positiveInteger(options.inProcessLeaseSeconds, "inProcessLeaseSeconds", 30, 3),
    retryDelaySeconds: positiveInteger(options.retryDelaySeconds, "retryDelaySeconds", 0, 0),
    pollIntervalMs: positiveInteger(options.pollIntervalMs, "pollIntervalMs", 1000, 50),
    maintenanceIntervalSeconds: positiveInteger(options.maintenanceIntervalSeconds, "maintenanceIntervalSeconds", 30),
    eventRetentionHours: positiveInteger(options.eventRetentionHours, "eventRetentionHours", 168),
    onError: options.onError ?? reportToStandardError,
  };
}
