/**
 * The Chromium that browser tests and scripts/screenshots.ts launch, and how. In order of precedence: the binary named by
 * `CHROMIUM_PATH`; an installed system Chromium at /usr/bin/chromium; otherwise the Chromium shipped
 * inside the npm package `@sparticuz/chromium` (a devDependency, so `npm install` brings the browser and
 * nothing has to be installed by hand). Playwright-core drives any of them headless.
 */
import { existsSync } from "node:fs";
import chromium from "@sparticuz/chromium";

export const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** Flags for a desktop Chromium (CHROMIUM_PATH or the system's) in a container, headless. */
const DESKTOP_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/**
 * Flags of `chromium.args` (tuned for AWS Lambda) left out here. `--single-process` makes browser
 * contexts share one cookie jar for cookies set by fetch(), so two users signed in side by side would
 * end up with the last one's session (the "keeps each context's cookies apart" test pins this). The
 * other two would let a page do what a user's browser refuses (cross-origin reads, mixed content).
 */
const LEFT_OUT_ARGS = new Set(["--single-process", "--disable-web-security", "--allow-running-insecure-content"]);

export type ChromiumSource = "CHROMIUM_PATH" | "system" | "@sparticuz/chromium";

export interface ChromiumLaunch {
  /** Where the binary came from, for the test's log. */
  source: ChromiumSource;
  executablePath: string;
  args: string[];
}

/**
 * Picks the Chromium to launch. `env` and `exists` are parameters so the precedence can be tested
 * without touching the machine's files or environment.
 */
export async function chromiumLaunch(
  env: NodeJS.ProcessEnv = process.env,
  exists: (file: string) => boolean = existsSync,
): Promise<ChromiumLaunch> {
  const configured = env.CHROMIUM_PATH;
  if (configured !== undefined && configured !== "") {
    if (!exists(configured)) throw new Error(`CHROMIUM_PATH=${configured}: no such file`);
    return { source: "CHROMIUM_PATH", executablePath: configured, args: DESKTOP_ARGS };
  }
  if (exists(SYSTEM_CHROMIUM)) return { source: "system", executablePath: SYSTEM_CHROMIUM, args: DESKTOP_ARGS };
  return {
    source: "@sparticuz/chromium",
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((arg) => !LEFT_OUT_ARGS.has(arg)),
  };
}
