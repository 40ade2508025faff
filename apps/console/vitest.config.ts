import { lashProject } from "@lash/vitest-config";

// The browser tests start a real server process and a real Chromium: give them room on a busy machine.
export default lashProject("@lash/console", {
  test: { globalSetup: ["test/build-for-tests.ts"], testTimeout: 60_000, hookTimeout: 90_000 },
});
