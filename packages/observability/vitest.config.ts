import { lashProject } from "@lash/vitest-config";

// Without the shared "module" condition: the OpenTelemetry packages publish an ESM build under
// "module" that Node cannot load (extensionless imports); their default entry works.
const conditions = ["@lash/source", "node", "development|production"];

export default lashProject("@lash/observability", {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
});
