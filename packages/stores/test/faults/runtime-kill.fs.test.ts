import { describeRuntimeKills } from "./runtime-kill-suite.js";

await describeRuntimeKills("fs");
