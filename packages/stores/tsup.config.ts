import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/sql/index.ts", "src/fs/index.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
