/** The exit codes of `lash`, as documented in the README. */
export const EXIT_CODES = {
  /** The command did what was asked; a turn finished (or handed off). */
  finished: 0,
  /** A turn stopped (a limit, a provider error, ...) or the command failed. */
  failed: 1,
  /** Bad usage or configuration: an unknown flag, a bad config file, no provider, an unknown session. */
  usage: 2,
  /** A turn waits for approval: `lash approve` / `lash reject` continue it, from any process. */
  awaitingApproval: 3,
  /** Cancelled by Ctrl-C. */
  cancelled: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
