import { describeCheckpointKills } from "./runtime-kill-suite.js";

await describeCheckpointKills("postgres");
