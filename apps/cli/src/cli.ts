#!/usr/bin/env node
import { homedir } from "node:os";
import { processIo } from "./cli-io.js";
import { runCli } from "./cli-program.js";

const exitCode = await runCli(process.argv.slice(2), processIo(homedir()));
// Exit explicitly once the output is flushed: an idle stdin reader or a driver's pool would
// otherwise keep the process alive after the command is done.
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
process.exit(exitCode);
