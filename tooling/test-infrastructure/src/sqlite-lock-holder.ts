import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/** A SQLite write lock another process holds, until `release()`. */
export interface HeldSqliteLock {
  release(): Promise<void>;
}

/**
 * Starts a child process that opens the SQLite `file` with better-sqlite3 (resolved from
 * `resolveFrom`, a folder whose package depends on it), switches it to WAL, takes the write lock
 * (`BEGIN EXCLUSIVE`: in WAL mode, writers wait and readers still read) and holds it until released.
 * Resolves once the lock is held: a real competing process, which no in-process trick reproduces.
 */
export async function holdSqliteWriteLock(file: string, resolveFrom: string): Promise<HeldSqliteLock> {
  const script = [
    "const Database = require('better-sqlite3');",
    `const database = new Database(${JSON.stringify(file)});`,
    "database.pragma('journal_mode = WAL');",
    "database.exec('begin exclusive');",
    "process.stdout.write('locked\\n');",
    "process.stdin.resume();",
    "process.stdin.on('end', () => { database.exec('rollback'); database.close(); });",
  ].join("\n");
  const child: ChildProcess = spawn(process.execPath, ["-e", script], { cwd: resolveFrom, stdio: ["pipe", "pipe", "inherit"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("locked")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the lock holder exited early (${String(code)})`)));
  });
  return {
    async release() {
      const exited = once(child, "exit");
      child.stdin?.end();
      await exited;
    },
  };
}
