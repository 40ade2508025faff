import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/scripted.ts", "src/postgres-test-database.ts", "src/child-process-bundle.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
