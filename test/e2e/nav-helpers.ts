/**
 * What the navigation and accessibility browser tests (nav.e2e.test.ts, axe.e2e.test.ts) share beyond
 * the demo stack and user steps of scripts/lib/demo-browser.ts: error tracking and the checks both make,
 * no horizontal overflow and no serious or critical axe-core violation.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import type { Page } from "playwright-core";

export * from "../../scripts/lib/demo-browser";

/** Collects the page's console errors and page errors into `sink`, labelled. */
export function trackErrors(page: Page, label: string, sink: string[]): void {
  page.on("console", (m) => {
    if (m.type() === "error") sink.push(`${label}: console error: ${m.text()} ${m.location().url ?? ""}`);
  });
  page.on("pageerror", (e) => sink.push(`${label}: page error: ${e.message}`));
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
