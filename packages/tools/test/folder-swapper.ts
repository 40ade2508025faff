import { spawn } from "node:child_process";
import { once } from "node:events";

/**
 * Swaps two paths in a loop, in another process, the way an attacker races a path check:
 * `renameat2(RENAME_EXCHANGE)` through Python's `ctypes` (Node cannot call it), so each swap is
 * atomic and the path never goes missing. Where `renameat2` is missing or the filesystem refuses
 * the exchange, the script falls back to a rename loop (move the folder away, put a link in its
 * place, put the folder back); without Python, a Node script does the same rename loop.
 */
const PYTHON_SWAPPER = `
import ctypes, os, signal, sys
a, b = sys.argv[1], sys.argv[2]
stopping = False
def request_stop(*_):
    global stopping
    stopping = True
signal.signal(signal.SIGTERM, request_stop)
libc = ctypes.CDLL(None, use_errno=True)
renameat2 = getattr(libc, "renameat2", None)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
def exchange():
    return renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE) == 0
swaps = 0
if renameat2 is not None and exchange():
    print("mode exchange", flush=True)
    swaps = 1
    # Stop only at an even count, so both paths are back where they started.
    while not stopping or swaps % 2 == 1:
        if exchange():
            swaps += 1
else:
    print("mode rename", flush=True)
    target, hold = os.readlink(b), a + ".hold"
    while not stopping:
        os.rename(a, hold)
        os.symlink(target, a)
        os.unlink(a)
        os.rename(hold, a)
        swaps += 2
print("swaps", swaps, flush=True)
`;

const NODE_SWAPPER = `
const fs = require("node:fs");
const [a, b] = process.argv.slice(1);
const target = fs.readlinkSync(b);
let swaps = 0;
let stopping = false;
process.on("SIGTERM", () => { stopping = true; });
console.log("mode rename");
const batch = () => {
  if (stopping) { console.log("swaps " + swaps); return; }
  // Batches, so the SIGTERM handler gets a turn of the event loop.
  for (let index = 0; index < 200; index += 1) {
    fs.renameSync(a, a + ".hold");
    fs.symlinkSync(target, a);
    fs.unlinkSync(a);
    fs.renameSync(a + ".hold", a);
    swaps += 2;
  }
  setImmediate(batch);
};
batch();
`;

export interface FolderSwapper {
  /** `exchange`: atomic renameat2 swaps; `rename`: the fallback loop (the folder is briefly missing). */
  readonly mode: "exchange" | "rename";
  /** Stops the loop with both paths back in place; answers how many swaps were made. */
  stop(): Promise<number>;
}

function startSwapper(command: string, args: string[]): Promise<FolderSwapper> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    errors += chunk;
  });
  const exited = once(child, "exit");
  return new Promise<FolderSwapper>((resolve, reject) => {
    child.once("error", reject);
    const onData = (): void => {
      const mode = /^mode (exchange|rename)$/m.exec(output)?.[1];
      if (mode !== "exchange" && mode !== "rename") return;
      child.stdout.off("data", onData);
      resolve({
        mode,
        async stop() {
          child.kill("SIGTERM");
          await exited;
          const swaps = /^swaps (\d+)$/m.exec(output)?.[1];
          if (swaps === undefined) throw new Error(`the swapper did not stop cleanly: ${errors || output}`);
          return Number(swaps);
        },
      });
    };
    child.stdout.on("data", onData);
    void exited.then(() => reject(new Error(`the swapper exited early: ${errors || output}`)));
  });
}

/**
 * Starts swapping `folder` (a real folder) with `link` (a symbolic link) until `stop()`. Prefers
 * Python's atomic exchange; falls back to a Node rename loop when `python3` is not installed.
 */
export async function startFolderSwapper(folder: string, link: string): Promise<FolderSwapper> {
  try {
    return await startSwapper("python3", ["-c", PYTHON_SWAPPER, folder, link]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return startSwapper(process.execPath, ["-e", NODE_SWAPPER, folder, link]);
  }
}
