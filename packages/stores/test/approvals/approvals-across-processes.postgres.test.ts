import { describeApprovalsAcrossProcesses } from "./approvals-across-processes-suite.js";

await describeApprovalsAcrossProcesses("postgres");
