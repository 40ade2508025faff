import { lashProject } from "@lash/vitest-config";

// The tests start the bundled command as child processes: give them room on a busy CI machine.
export default lashProject("@lash/cli", { test: { globalSetup: ["test/bundle-cli.ts"], testTimeout: 60_000, hookTimeout: 60_000 } });
