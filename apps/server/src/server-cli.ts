#!/usr/bin/env node
// The `lash-server` bin: the same command `lash serve` runs, on this process's streams.
import { runServerCommand } from "./server-command.js";

runServerCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  name: "lash-server",
}).then(
  (code) => process.exit(code),
  // The command reports its own failures; this is only for one it could not report (stderr gone).
  () => process.exit(1),
);
