/** The Chromium browser tests launch: see scripts/lib/browser.ts (shared with scripts/screenshots.ts). */
export * from "../../scripts/lib/browser";
