import { backgroundTaskRecordSchema } from "@lash/protocol";
import { z } from "zod";
import { resourceIdSchema } from "./session-schemas.js";

/** The largest page of `GET /v1/tasks`. */
export const MAX_TASK_PAGE_SIZE = 100;

/** Which tasks `GET /v1/tasks` lists: `live` (the default: pending, running, waiting, cancel requested) or `all` (ended ones too). */
export const TASK_LIST_STATES = ["live", "all"] as const;

/** `GET /v1/tasks` query. Unknown parameters are refused. */
export const listTasksQuerySchema = z.strictObject({
  /** `live` (default) or `all`. */
  state: z.enum(TASK_LIST_STATES).optional(),
  /** Only the tasks of this session (one of the caller's own). */
  sessionId: resourceIdSchema.optional(),
  /** Page size, 1 to 100 (default 50). */
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, { error: `must be a whole number from 1 to ${MAX_TASK_PAGE_SIZE}` })
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_TASK_PAGE_SIZE))
    .optional(),
  /** The previous page's `nextCursor`; absent for the first page. */
  cursor: z.string().min(1).max(1024).optional(),
});
export type ListTasksQuery = z.infer<typeof listTasksQuerySchema>;

/**
 * A background task (a subagent, a monitor) of one of the caller's sessions, as the task host
 * records it: `scope.sessionId` is the session that started it, `childSessionId` the session a
 * subagent runs in, times are epoch milliseconds.
 */
export const taskResourceSchema = backgroundTaskRecordSchema;
export type TaskResource = z.infer<typeof taskResourceSchema>;

/** `GET /v1/tasks`: one page, oldest first (by `createdAt`, then id). */
export const taskListResponseSchema = z.object({
  tasks: z.array(taskResourceSchema),
  /** Present when more tasks follow: pass it as `cursor`. */
  nextCursor: z.string().optional(),
});
export type TaskListResponse = z.infer<typeof taskListResponseSchema>;
