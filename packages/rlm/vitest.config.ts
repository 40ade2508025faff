import { lashProject } from "@lash/vitest-config";

export default lashProject("@lash/rlm");
