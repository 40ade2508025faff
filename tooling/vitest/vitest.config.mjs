import { lashProject } from "./index.js";

export default lashProject("@lash/vitest-config", { test: { include: ["*.test.mjs"] } });
