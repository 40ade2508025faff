import { describeRuntimeKills } from "./runtime-kill-suite.js";

await describeRuntimeKills("sqlite");
