import type { Writable } from "node:stream";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * A one-line spinner on a terminal; does nothing on anything else (a pipe, a file, a test), on a
 * terminal that cannot move its cursor (`TERM=dumb`). `NO_COLOR` keeps it: it is not colour.
 */
export interface Spinner {
  start(label: string): void;
  /** Clears the line; safe to call when not spinning. */
  stop(): void;
}

export function createSpinner(
  stream: Writable & { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = {},
): Spinner {
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  if (stream.isTTY !== true || env.TERM === "dumb") return { start() {}, stop() {} };
  return {
    start(label) {
      if (timer !== undefined) return;
      const draw = (): void => {
        stream.write(`\r${FRAMES[frame % FRAMES.length]} ${label}`);
        frame += 1;
      };
      draw();
      timer = setInterval(draw, 80);
      timer.unref();
    },
    stop() {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      stream.write("\r\u001b[2K");
    },
  };
}
