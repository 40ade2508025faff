import { describeRuntimeKills } from "./runtime-kill-suite.js";

await describeRuntimeKills("postgres");
