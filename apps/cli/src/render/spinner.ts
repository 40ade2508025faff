import type { Writable } from "node:stream";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A one-line spinner on a terminal; does nothing on anything else (a pipe, a file, a test). */
export interface Spinner {
  start(label: string): void;
  /** Clears the line; safe to call when not spinning. */
  stop(): void;
}

export function createSpinner(stream: Writable & { readonly isTTY?: boolean }): Spinner {
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  if (stream.isTTY !== true) return { start() {}, stop() {} };
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
