import { describeCrashRecovery } from "./crash-recovery-suite.js";

await describeCrashRecovery("postgres");
