/**
 * Regenerates the README's screenshots (web/screenshots/*.png) against the demo, as a user would click:
 * the supplier's overview, an application from Apply to the signed offer, the lender's view of it
 * countersigned and disbursed, the court's verdict on the agreement and on a copy with one byte
 * changed, and the overview on a 390 px phone screen. Headless Chromium (test/e2e/browser.ts picks it)
 * driven by playwright-core; each picture is of the part that matters, at a device scale of 1, so the
 * files stay small.
 *
 *   npx ts-node --transpile-only scripts/screenshots.ts              starts a fresh demo (npm start --fresh) in a temp dir
 *   npx ts-node --transpile-only scripts/screenshots.ts --url URL    uses a running demo (it applies and disburses there)
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Locator, type Page } from "playwright-core";
import { chromiumLaunch } from "./lib/browser";
import { apply, doneStep, LENDER, PHONE, signIn, startStack, SUPPLIER, type Stack } from "./lib/demo-browser";

const OUT = path.resolve(__dirname, "../web/screenshots");
const DESKTOP = { width: 1280, height: 900 };
/** Taller pictures are cut at this height: the top of a page is what the README shows. */
const MAX_HEIGHT = 1400;

async function shoot(page: Page, target: Locator | undefined, file: string): Promise<void> {
  const out = path.join(OUT, file);
  if (!target) {
    await page.screenshot({ path: out });
  } else {
    await target.scrollIntoViewIfNeeded();
    const box = await target.boundingBox();
    if (!box) throw new Error(`${file}: nothing to photograph`);
    // A full-page capture clipped to the element, at most MAX_HEIGHT tall.
    const scrollY = await page.evaluate(() => window.scrollY);
    await page.screenshot({
      path: out,
      fullPage: true,
      clip: {
        x: Math.max(0, box.x - 8),
        y: box.y + scrollY - 8,
        width: Math.min(box.width + 16, DESKTOP.width),
        height: Math.min(box.height + 16, MAX_HEIGHT),
      },
    });
  }
  console.log(`  ${path.relative(process.cwd(), out)}`);
}

/** Waits until nothing on the page is loading any more. */
const settled = (page: Page) =>
  page.waitForFunction(() => document.querySelector(".state.loading") === null, undefined, { timeout: 30_000 });

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: "string" } } });
  let stack: Stack | undefined;
  if (!values.url) {
    console.log("starting a fresh demo (npm start --fresh in a temp directory)…");
    stack = await startStack();
  }
  const base = values.url ?? stack!.baseUrl;
  const launch = await chromiumLaunch();
  const browser = await chromium.launch({ executablePath: launch.executablePath, args: launch.args });
  try {
    await mkdir(OUT, { recursive: true });
    const supplierContext = await browser.newContext({ viewport: DESKTOP, locale: "en-US", deviceScaleFactor: 1 });
    const supplier = await supplierContext.newPage();
    await supplier.goto(`${base}/manufacturer`);
    await signIn(supplier, SUPPLIER);
    await supplier.locator('tr[data-metric="orderCount"]').waitFor();
    await settled(supplier);
    await shoot(supplier, undefined, "manufacturer-overview.png");

    const id = await apply(supplier, "250,000.00", LENDER.name);
    await doneStep(supplier, id, "offer_issued").waitFor({ timeout: 60_000 });
    await supplier.locator(`article[data-application="${id}"]`).getByRole("button", { name: "Sign the offer" }).click();
    await doneStep(supplier, id, "signed_by_borrower").waitFor({ timeout: 60_000 });

    const lenderContext = await browser.newContext({ viewport: DESKTOP, locale: "en-US", deviceScaleFactor: 1 });
    const lender = await lenderContext.newPage();
    await lender.goto(`${base}/lender`);
    await signIn(lender, LENDER);
    const row = lender.getByRole("region", { name: "Application queue" }).locator("tbody tr", { hasText: SUPPLIER.name }).first();
    await row.getByRole("button", { name: /Open application/ }).click();
    const detail = lender.locator(`section[data-application="${id}"]`);
    await detail.getByRole("button", { name: "Countersign" }).click();
    await detail.locator('li[data-step="countersigned_notarized"].done').waitFor({ timeout: 120_000 });
    await detail.getByRole("button", { name: /^Disburse/ }).click({ timeout: 60_000 });
    await detail.locator('li[data-step="disbursed"].done').waitFor({ timeout: 60_000 });
    await detail.locator('tr[data-metric="orderCount"]').waitFor();
    await settled(lender);
    await shoot(lender, detail, "lender.png");

    await doneStep(supplier, id, "disbursed").waitFor({ timeout: 60_000 });
    await shoot(supplier, supplier.locator(`article[data-application="${id}"]`), "manufacturer.png");

    const document = await (await supplier.request.get(`${base}/api/applications/${id}/agreement-document`)).body();
    const court = await (await browser.newContext({ viewport: DESKTOP, locale: "en-US", deviceScaleFactor: 1 })).newPage();
    await court.goto(`${base}/court`);
    await court.getByLabel(/Drop a file here/).setInputFiles({ name: "loan-agreement.txt", mimeType: "text/plain", buffer: document });
    await court.locator('.verdict[data-verdict="anchored"]').waitFor({ timeout: 30_000 });
    await settled(court);
    await shoot(court, court.locator("main"), "court-verdict.png");
    const tampered = Buffer.from(document);
    tampered[Math.floor(tampered.length / 2)] ^= 0x01;
    await court
      .getByLabel(/Drop a file here/)
      .setInputFiles({ name: "loan-agreement-edited.txt", mimeType: "text/plain", buffer: tampered });
    await court.locator('.verdict[data-verdict="not-anchored"]').waitFor({ timeout: 30_000 });
    await shoot(court, court.locator("main"), "court-tampered.png");

    await supplier.setViewportSize(PHONE);
    await supplier.goto(`${base}/manufacturer/overview`);
    await supplier.locator('tr[data-metric="orderCount"]').waitFor();
    await settled(supplier);
    await shoot(supplier, undefined, "manufacturer-phone.png");
  } catch (err) {
    // What the pages showed when it stopped, to see why.
    for (const [i, context] of browser.contexts().entries()) {
      for (const [j, page] of context.pages().entries())
        await page
          .screenshot({ path: path.join(OUT, `../../test-results/screenshots-failed-${i}-${j}.png`), fullPage: true })
          .catch(() => undefined);
    }
    throw err;
  } finally {
    await browser.close();
    await stack?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
