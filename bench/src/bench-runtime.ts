import type { TurnCheck, WorkloadName } from "./workload.js";

/** A runtime ready to run turns. */
export interface OpenRuntime {
  /**
   * Runs one turn of `workload` and reports what it did (checked before timing). The raw SQLite
   * floor runs no model and reports nothing: it checks its own rows when it closes.
   */
  turn(workload: WorkloadName): Promise<TurnCheck | undefined>;
  /** Releases the runtime (closes databases, drops schemas); throws when it finds work undone. */
  close(): Promise<void>;
  /** Something the table should say about this runtime's setup (its durability setting). */
  readonly note?: string;
}

/** A column of the table: one runtime, opened once per workload and round. */
export interface BenchRuntime {
  /** A stable key for the JSON output. */
  readonly id: string;
  /** The row label. */
  readonly name: string;
  readonly kind: "lash" | "floor" | "peer";
  /** Opens the runtime, or says why it cannot run here (the row is skipped with that reason). */
  open(): Promise<OpenRuntime | { readonly skipped: string }>;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
