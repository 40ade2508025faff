import { defineConfig } from "vite";

// The server serves the build at `/` and `/assets/*` under a strict content security policy: one
// module script and one stylesheet, no inline code, nothing from elsewhere.
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
  resolve: { conditions: ["@lash/source"] },
});
