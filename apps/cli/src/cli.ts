#!/usr/bin/env node
import { homedir } from "node:os";
import { processIo } from "./cli-io.js";
import { runCli } from "./cli-program.js";

// A reader that goes away (`lash sessions list | head`) is not an error of the command: stop quietly,
// as other command-line tools do, instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

const exitCode = await runCli(process.argv.slice(2), processIo(homedir()));
// Exit explicitly once the output is flushed: an idle stdin reader or a driver's pool would
// otherwise keep the process alive after the command is done.
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
process.exit(exitCode);
