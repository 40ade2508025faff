import { lashProject } from "@lash/vitest-config";

// One test starts the bundled command as a child process: give it room on a busy CI machine.
export default lashProject("@lash/server", { test: { globalSetup: ["test/bundle-server.ts"], testTimeout: 60_000, hookTimeout: 60_000 } });
