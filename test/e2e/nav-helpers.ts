/**
 * What the browser tests (test/e2e/*.e2e.test.ts) share beyond the demo stack and user steps of
 * scripts/lib/demo-browser.ts: the suite fixture (stack, browser, pages whose errors fail the test),
 * error tracking and the checks nav and axe make, no horizontal overflow and no serious or critical
 * axe-core violation.
 */
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, RESULTS, signIn, startStack, type Stack } from "../../scripts/lib/demo-browser";

export * from "../../scripts/lib/demo-browser";

/** "CNY 1,234.56" -> 123456n (the page's formatting, en-US). */
export function minorOf(text: string): bigint {
  const m = /CNY\s*([\d,]+)\.(\d{2})/.exec(text.replace(/\u00a0/g, " "));
  if (!m) throw new Error(`no CNY amount in ${JSON.stringify(text)}`);
  return BigInt(m[1].replace(/,/g, "")) * 100n + BigInt(m[2]);
}

/** Collects the page's console errors and page errors into `sink`, labelled. */
export function trackErrors(page: Page, label: string, sink: string[]): void {
  page.on("console", (m) => {
    if (m.type() === "error") sink.push(`${label}: console error: ${m.text()} ${m.location().url ?? ""}`);
  });
  page.on("pageerror", (e) => sink.push(`${label}: page error: ${e.message}`));
}

/** How a page of the fixture opens: 1440 x 900 in US English unless told otherwise. */
export interface OpenOptions {
  width?: number;
  height?: number;
  locale?: string;
}

/** The demo stack and a browser for one describe block: see useDemoBrowser. */
export class DemoBrowser {
  /** The stack's URL (set by the before hook). */
  baseUrl = "";
  browser!: Browser;
  /** Console errors and page errors of every page opened, labelled; the afterEach hook fails on any. */
  readonly pageErrors: string[] = [];
  readonly contexts: BrowserContext[] = [];
  stack?: Stack;

  /** A page in a new browser context (its own session and storage), its errors tracked, at `${baseUrl}/${route}`. */
  async open(label: string, route: string, options: OpenOptions = {}): Promise<Page> {
    const { width = 1440, height = 900, locale = "en-US" } = options;
    const context = await this.browser.newContext({ viewport: { width, height }, locale, acceptDownloads: true });
    this.contexts.push(context);
    const page = await context.newPage();
    trackErrors(page, label, this.pageErrors);
    await page.goto(`${this.baseUrl}/${route}`);
    return page;
  }

  /** open, then sign in with the demo account picker. */
  async openAs(account: { index: number; name: string }, label: string, route: string, options: OpenOptions = {}): Promise<Page> {
    const page = await this.open(label, route, options);
    await signIn(page, account);
    return page;
  }
}

/**
 * Registers, in the calling describe block, the hooks every browser test needs: before, `npm start
 * --fresh` (startStack, `options.env` added to its environment) and Chromium; after each test, no
 * console error or page error; after, all closed and the stack stopped. Call it first in the block, so
 * its before hook runs before the block's own.
 */
export function useDemoBrowser(options: { timeoutMs?: number; env?: Record<string, string> } = {}): DemoBrowser {
  const demo = new DemoBrowser();
  before(async function () {
    await mkdir(RESULTS, { recursive: true });
    demo.stack = await startStack(options);
    demo.baseUrl = demo.stack.baseUrl;
    demo.browser = await launchBrowser();
  });
  after(async function () {
    for (const c of demo.contexts) await c.close().catch(() => undefined);
    await demo.browser?.close().catch(() => undefined);
    await demo.stack?.stop();
  });
  afterEach(function () {
    expect(demo.pageErrors.splice(0), "console errors or page errors in the page").to.deep.equal([]);
  });
  return demo;
}

/**
 * Elements that stick out of the viewport on the right without being inside a horizontally scrolling
 * box (a wide table in its own scroller is fine), and the document's scroll width.
 */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number; offenders: string[] }> {
  return page.evaluate(() => {
    const innerWidth = window.innerWidth;
    const offenders: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= innerWidth + 1) continue;
      let scroller = false;
      for (let p = el.parentElement; p && !scroller; p = p.parentElement) scroller = /auto|scroll/.test(getComputedStyle(p).overflowX);
      if (!scroller) offenders.push(`${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(" ").join(".")}` : ""}`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth, offenders: offenders.slice(0, 10) };
  });
}

/** Asserts the page fits its viewport's width: document.scrollWidth <= innerWidth. */
export async function expectNoHorizontalOverflow(page: Page, where: string): Promise<void> {
  const o = await horizontalOverflow(page);
  expect(o.scrollWidth, `${where}: wider than the screen (${o.innerWidth} px) because of ${o.offenders.join(", ")}`).to.be.at.most(
    o.innerWidth,
  );
}

const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's serious and critical violations on the page as it is now, one line each. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's Content-Security-Policy (script-src 'self') stays on.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    type Result = { violations: { id: string; impact?: string; help: string; nodes: { target: string[] }[] }[] };
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<Result> } }).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.length} × ${v.nodes[0]?.target.join(" ")}`);
  });
}
