import { defineConfig } from "vite";

// Vite 8 compiles TSX itself: no React plugin needed. Built files go to web/dist, served by the service.
export default defineConfig({
  root: __dirname,
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: { proxy: { "/api": "http://127.0.0.1:3000", "/rpc": "http://127.0.0.1:3000" } },
});
