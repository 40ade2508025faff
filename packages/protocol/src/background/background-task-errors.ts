import type { z } from "zod";
import { LashError, type LashErrorOptions, markerFor } from "../errors/lash-error.js";
import type { BackgroundTaskState } from "./background-task-schemas.js";

const transitionMarker = markerFor("BackgroundTaskTransitionError");
const transitionSymbol = Symbol.for(transitionMarker);

/**
 * A request would move a task along a move that is not legal (see `isLegalBackgroundTaskTransition`),
 * for example completing a task that already ended. Nothing was changed and no event was emitted.
 * Code `invalid_argument`.
 */
export class BackgroundTaskTransitionError extends LashError {
  readonly [transitionSymbol] = true;
  readonly taskId: string;
  readonly from: BackgroundTaskState;
  readonly to: BackgroundTaskState;

  constructor(taskId: string, from: BackgroundTaskState, to: BackgroundTaskState, options: LashErrorOptions = {}) {
    super("invalid_argument", `background task \`${taskId}\` cannot move from \`${from}\` to \`${to}\``, options);
    this.name = "BackgroundTaskTransitionError";
    this.taskId = taskId;
    this.from = from;
    this.to = to;
  }

  static override isInstance(error: unknown): error is BackgroundTaskTransitionError {
    return LashError.hasMarker(error, transitionMarker);
  }
}

const unknownMarker = markerFor("UnknownBackgroundTaskError");
const unknownSymbol = Symbol.for(unknownMarker);

/** No task with this id is known to the host. Code `invalid_argument`. */
export class UnknownBackgroundTaskError extends LashError {
  readonly [unknownSymbol] = true;
  readonly taskId: string;

  constructor(taskId: string, options: LashErrorOptions = {}) {
    super("invalid_argument", `unknown background task \`${taskId}\``, options);
    this.name = "UnknownBackgroundTaskError";
    this.taskId = taskId;
  }

  static override isInstance(error: unknown): error is UnknownBackgroundTaskError {
    return LashError.hasMarker(error, unknownMarker);
  }
}

const conflictMarker = markerFor("BackgroundTaskConflictError");
const conflictSymbol = Symbol.for(conflictMarker);

/** A live task already has this id (ids are unique per host until the task ends). Code `invalid_argument`. */
export class BackgroundTaskConflictError extends LashError {
  readonly [conflictSymbol] = true;
  readonly taskId: string;
  /** The session the live task with this id belongs to. */
  readonly existingSessionId: string;

  constructor(taskId: string, existingSessionId: string, options: LashErrorOptions = {}) {
    super(
      "invalid_argument",
      `background task \`${taskId}\` is already registered and still live (in session \`${existingSessionId}\`)`,
      options,
    );
    this.name = "BackgroundTaskConflictError";
    this.taskId = taskId;
    this.existingSessionId = existingSessionId;
  }

  static override isInstance(error: unknown): error is BackgroundTaskConflictError {
    return LashError.hasMarker(error, conflictMarker);
  }
}

const closedMarker = markerFor("BackgroundTaskHostClosedError");
const closedSymbol = Symbol.for(closedMarker);

/** The host was closed; it accepts no new tasks or changes. Code `invalid_configuration`. */
export class BackgroundTaskHostClosedError extends LashError {
  readonly [closedSymbol] = true;

  constructor(operation: string, options: LashErrorOptions = {}) {
    super("invalid_configuration", `background task host is closed (cannot ${operation})`, options);
    this.name = "BackgroundTaskHostClosedError";
  }

  static override isInstance(error: unknown): error is BackgroundTaskHostClosedError {
    return LashError.hasMarker(error, closedMarker);
  }
}

const unsupportedMarker = markerFor("BackgroundTaskUnsupportedError");
const unsupportedSymbol = Symbol.for(unsupportedMarker);

/**
 * The host cannot do what was asked (for example a host whose work only runs in worker processes was
 * given an in-process function). Code `invalid_configuration`.
 */
export class BackgroundTaskUnsupportedError extends LashError {
  readonly [unsupportedSymbol] = true;
  readonly operation: string;

  constructor(operation: string, why: string, options: LashErrorOptions = {}) {
    super("invalid_configuration", `background task host does not support ${operation}: ${why}`, options);
    this.name = "BackgroundTaskUnsupportedError";
    this.operation = operation;
  }

  static override isInstance(error: unknown): error is BackgroundTaskUnsupportedError {
    return LashError.hasMarker(error, unsupportedMarker);
  }
}

/**
 * Parses an argument a host received (hosts are called by untyped code too): the parsed value, or a
 * `LashError("invalid_argument")` naming the argument and every offending field.
 */
export function parseBackgroundTaskArgument<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .map((issue) => `${issue.path.length === 0 ? "(root)" : issue.path.map(String).join(".")}: ${issue.message}`)
    .join("; ");
  throw new LashError("invalid_argument", `invalid ${what}: ${problems}`);
}
