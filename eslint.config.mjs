import js from "@eslint/js";
import tseslint from "typescript-eslint";
import i18next from "eslint-plugin-i18next";

/**
 * Layers point one way. node-service/src: a folder imports only folders of earlier layers (the
 * README's flow, lowest first; server.ts is the composition root on top and imports any). A folder
 * named in a later layer, or a sibling of the same layer, is off limits: `npm run lint` fails on it.
 */
const SERVICE_LAYERS = [
  ["domain"],
  ["chain"],
  ["store"],
  ["indexer", "metrics", "loans"],
  ["risk"],
  ["underwriting"],
  ["applications", "auth"],
  ["documents", "notifications"],
  ["evidence"],
  ["api"],
];

function serviceLayerRules() {
  return SERVICE_LAYERS.flatMap((layer, level) =>
    layer.map((folder) => {
      const above = [...SERVICE_LAYERS.slice(level + 1).flat(), ...layer.filter((f) => f !== folder), "server"];
      return {
        files: [`node-service/src/${folder}/**/*.ts`],
        rules: {
          "no-restricted-imports": [
            "error",
            {
              patterns: above.map((target) => ({
                regex: `^(\\.\\./)+${target}(/|$)`,
                message: `node-service/src/${folder}/ is below ${target} in the service's layers (eslint.config.mjs, SERVICE_LAYERS): move the shared part down instead.`,
              })),
            },
          ],
        },
      };
    }),
  );
}

export default tseslint.config(
  { ignores: ["node_modules/", "artifacts/", "cache/", "dist/", "web/dist/", "typechain-types/", "coverage/", "data/", "test-results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: "readonly",
        process: "readonly",
        require: "readonly",
        __dirname: "readonly",
        module: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        fetch: "readonly",
        URL: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        AbortController: "readonly",
        crypto: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
  ...serviceLayerRules(),
  {
    // A room is a page of its own: what rooms share lives in web/src/hooks/ and web/src/components/.
    files: ["web/src/rooms/**/*.tsx", "web/src/rooms/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^\\./",
              message: "a room does not import another room: move what rooms share to web/src/hooks/ or web/src/components/.",
            },
            {
              regex: "^\\.\\./App$",
              message: "a room does not import App.tsx: move what rooms share to web/src/hooks/ or web/src/components/.",
            },
          ],
        },
      ],
    },
  },
  {
    // Benchmarks and scripts share helpers through scripts/lib/; tests may import scripts, never the reverse.
    files: ["scripts/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^(\\.\\./)+test(/|$)", message: "scripts/ import nothing from test/: move the shared helper to scripts/lib/." },
          ],
        },
      ],
    },
  },
  {
    // Every text a user reads goes through web/src/i18n (English and Simplified Chinese): no literal text in
    // JSX, in its text or in the attributes people read (aria-label, placeholder, title, ...).
    files: ["web/src/**/*.tsx"],
    plugins: { i18next },
    rules: {
      "i18next/no-literal-string": [
        "error",
        {
          mode: "jsx-only",
          "jsx-attributes": {
            exclude: [
              "className",
              "key",
              "id",
              "htmlFor",
              "href",
              "to",
              "path",
              "download",
              "type",
              "role",
              "name",
              "value",
              "inputMode",
              "autoComplete",
              "accept",
              "rel",
              "target",
              "status",
              "scope",
              "lang",
              "i18nKey",
              "data-.*",
              "aria-hidden",
              "aria-current",
              "viewBox",
              "d",
              "fill",
              "stroke",
              "strokeLinecap",
              "textAnchor",
              "rowKey",
              "numeric",
            ],
          },
          callees: { exclude: ["t", "tc", "tNs", "translateKnown", "useT", "formatMetric", "Error", "api", "setBusy"] },
          // Punctuation and numbers, constants, and identifiers (tab ids, statuses, keys: one word, no space).
          words: { exclude: ["^[\\s\\d—·“”…✓#%:,.()/+\\-]*$", "^[A-Z0-9_-]+$", "^[a-z][a-zA-Z0-9]*([_.-][a-zA-Z0-9]+)*$"] },
        },
      ],
    },
  },
  {
    files: ["web/src/hooks/**/*.ts", "web/src/components/**/*.tsx"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\.\\./(App|rooms)(/|$)", message: "shared hooks and components do not import App.tsx or a room." }] },
      ],
    },
  },
);
