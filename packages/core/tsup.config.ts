import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "rxjs/index": "src/rxjs/index.ts" },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
