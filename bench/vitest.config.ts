import { lashProject } from "@lash/vitest-config";

export default lashProject("@lash/bench", { test: { include: ["src/**/*.test.ts"], testTimeout: 120_000 } });
