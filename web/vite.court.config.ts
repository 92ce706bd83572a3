import { defineConfig, type Plugin } from "vite";

/**
 * The standalone court verifier as ONE HTML file (web/dist/court-verifier.html): every script and
 * style inlined, so the file works opened from disk, attached to a bundle, with no service. Runs after
 * the app's build (which empties web/dist).
 */
function inlineIntoHtml(): Plugin {
  return {
    name: "inline-into-html",
    enforce: "post",
    // After Vite's own generateBundle work (it fills in the dynamic imports' preload lists then): code
    // copied before that keeps a bare __VITE_PRELOAD__, and every dynamic import in the page (viem's
    // signature recovery among them) throws.
    generateBundle: {
      order: "post",
      handler(_options, bundle) {
        const html = Object.values(bundle).find((f) => f.type === "asset" && f.fileName.endsWith(".html"));
        if (!html || html.type !== "asset") throw new Error("no HTML page in the court verifier build");
        let text = String(html.source);
        for (const [name, file] of Object.entries(bundle)) {
          if (file.type === "chunk") {
            const tag = new RegExp(`<script type="module" crossorigin src="[^"]*${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"></script>`);
            if (!tag.test(text)) throw new Error(`the court verifier page does not load ${name}`);
            // A "</script" inside the code would end the inline script early.
            text = text.replace(tag, () => `<script type="module">${file.code.replace(/<\/script/gi, "<\\/script")}</script>`);
            delete bundle[name];
          } else if (file.fileName.endsWith(".css")) {
            const tag = new RegExp(`<link rel="stylesheet" crossorigin href="[^"]*${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}">`);
            text = text.replace(tag, () => `<style>${String(file.source)}</style>`);
            delete bundle[name];
          }
        }
        html.source = text;
        if (text.includes("__VITE_PRELOAD__")) throw new Error("the court verifier page still holds a __VITE_PRELOAD__ placeholder");
      },
    },
  };
}

export default defineConfig({
  root: __dirname,
  base: "./",
  plugins: [inlineIntoHtml()],
  build: {
    outDir: "dist",
    emptyOutDir: false,
    sourcemap: false,
    chunkSizeWarningLimit: 4000,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    cssCodeSplit: false,
    modulePreload: false,
    rollupOptions: { input: "court-verifier.html", output: { codeSplitting: false } },
  },
});
