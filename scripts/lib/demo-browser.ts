/**
 * The demo in a browser, shared by the browser tests (test/e2e/) and scripts/screenshots.ts: the real
 * stack `npm start --fresh` runs (embedded chain, deployment, demo seed, service, built UI) in a temp
 * directory on free ports, the demo's accounts, and the steps a user takes (sign in, apply).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { freePort } from "./chain-helpers";
import { chromiumLaunch } from "./browser";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const RESULTS = path.join(REPO_ROOT, "test-results");

/** Demo accounts of the seed (scripts/seed.ts). */
export const SUPPLIER = { index: 8, name: "Precision Parts Co." };
/** A supplier the seed gives a middling record (referred to the lender) and one in a circular-trading ring (declined). */
export const MEDIOCRE_SUPPLIER = { index: 9, name: "Ningbo Plastics Ltd." };
export const RING_SUPPLIER = { index: 17, name: "Apex Trading Co." };
export const LENDER = { index: 4, name: "Lingnan Commercial Bank" };
/** The seed's three lenders, LENDER first: a test that needs a lender no earlier step has touched (no consent in force) takes another. */
export const LENDERS = [LENDER, { index: 5, name: "Pacific Factoring Co." }, { index: 6, name: "Jiangnan Rural Bank" }] as const;
export const AUDITOR = { index: 7, name: "Haidian Notary & Audit Office" };

export const WIDE = { width: 1440, height: 900 };
export const PHONE = { width: 390, height: 844 };

export interface Stack {
  baseUrl: string;
  /** The embedded chain's JSON-RPC (its accounts are unlocked), and the contracts' addresses on it. */
  chainUrl: string;
  deploymentFile: string;
  stop(): Promise<void>;
}

/**
 * `npm start --fresh` in a temp data directory on free ports (`env` added to its environment), until it
 * prints its URL (180 s unless `timeoutMs`).
 */
export async function startStack(options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Stack> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const env = options.env ?? {};
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "scf-nav-e2e-"));
  const [chainPort, port] = [await freePort(), await freePort()];
  // Its own process group, so stop() can kill npx and everything under it.
  const child: ChildProcess = spawn("npx", ["ts-node", "--transpile-only", "scripts/start.ts", "--fresh"], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DATA_DIR: path.join(dataDir, "data"),
      CHAIN_PORT: String(chainPort),
      PORT: String(port),
      LOG_LEVEL: "warn",
      HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
      ...env,
    },
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  let code: number | null | undefined;
  child.once("exit", (c) => (code = c));
  const kill = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  process.once("exit", kill);
  const stop = async () => {
    kill();
    process.off("exit", kill);
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!/Open (http:\/\/\S+)/.test(output)) {
    if (code !== undefined) {
      await stop();
      throw new Error(`npm start exited with ${code}:\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm start printed no "Open <url>" in ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    baseUrl: /Open (http:\/\/\S+)/.exec(output)![1],
    chainUrl: `http://127.0.0.1:${chainPort}`,
    deploymentFile: path.join(dataDir, "data", "deployment.json"),
    stop,
  };
}

export async function launchBrowser(): Promise<Browser> {
  const launch = await chromiumLaunch();
  const browser = await chromium.launch({ executablePath: launch.executablePath, args: launch.args });
  console.log(`      browser: ${launch.source} Chromium ${browser.version()}`);
  return browser;
}

/** Signs in with the demo account picker, as a user would. */
export async function signIn(page: Page, account: { index: number; name: string }): Promise<void> {
  await page.getByLabel("Demo account (dev chain only)").selectOption(String(account.index));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator(".signin .who", { hasText: account.name }).waitFor();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Demo account (dev chain only)").waitFor();
}

/** Applies with the form's defaults (receivables and consent preselected) for `amount` from `lender`; the application's id. */
export async function apply(page: Page, amount: string, lender: string): Promise<string> {
  await page.getByRole("tab", { name: "Apply for financing" }).click();
  const form = page.getByRole("form", { name: "Loan application" });
  await form.waitFor();
  await form.getByLabel("Amount").fill(amount);
  await form.getByLabel("Lender").selectOption({ label: lender });
  await form.getByRole("button", { name: "Apply" }).click();
  const card = page.locator("article.application").first();
  await card.waitFor({ timeout: 30_000 });
  const id = await card.getAttribute("data-application");
  if (!id || !/^[0-9a-f-]{36}$/.test(id)) throw new Error(`the new application card has no id (${id})`);
  return id;
}

/**
 * Applies for `amount` from `lender` on the Apply tab and waits until the wallet has sent the consent
 * transaction (the page keeps it in sessionStorage until the chain has it); returns its hash. With
 * mining paused by the caller, the consent then stays pending.
 */
export async function applyWithConsentSent(page: Page, amount: string, lender: string): Promise<string> {
  await page.getByRole("tab", { name: "Apply for financing" }).click();
  const form = page.getByRole("form", { name: "Loan application" });
  await form.getByLabel("Amount").fill(amount);
  await form.getByLabel("Lender").selectOption({ label: lender });
  await form.getByRole("button", { name: "Apply" }).click();
  const sent = await page.waitForFunction(
    () => {
      const pending = JSON.parse(sessionStorage.getItem("scf.consent.pending") ?? "{}") as Record<string, { hash: string }>;
      return Object.values(pending)[0]?.hash ?? null;
    },
    undefined,
    { timeout: 30_000 },
  );
  const tx = (await sent.jsonValue()) as string;
  if (!/^0x[0-9a-f]{64}$/.test(tx)) throw new Error(`the pending consent has no transaction hash (${tx})`);
  return tx;
}

/** A step of the application's timeline, once reached (on the borrower's card or the lender's detail). */
export function doneStep(page: Page, id: string, step: string) {
  return page.locator(`[data-application="${id}"] li[data-step="${step}"].done`);
}
