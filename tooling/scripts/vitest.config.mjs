import { lashProject } from "../vitest/index.js";

export default lashProject("tooling-scripts", { test: { include: ["*.test.mjs"] } });
