import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/server-cli.ts", "src/index.ts"],
  format: ["esm"],
  // Declarations for the library entry (`createServerApp`, `startServer` embedded in a host); the bin needs none.
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
