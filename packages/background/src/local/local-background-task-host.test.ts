import { describeBackgroundTaskHostConformance } from "@lash/testkit";
import { LocalBackgroundTaskHost } from "./local-background-task-host.js";

describeBackgroundTaskHostConformance({
  name: "local",
  capabilities: { inProcessWork: true, retries: true, concurrencyLimit: true, durable: false },
  async create(options) {
    const host = new LocalBackgroundTaskHost(
      options?.maxConcurrentTasks === undefined ? {} : { maxConcurrentTasks: options.maxConcurrentTasks },
    );
    return { host, close: () => host.close() };
  },
});
