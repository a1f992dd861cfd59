import { defineConfig } from "vite";

// Built into dist/, which Eventide serves at / (see src/eventide/console). Hashed file
// names under /assets/ let the server cache them for a year; index.html is never cached.
export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } } },
});
