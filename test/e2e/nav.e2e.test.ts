/**
 * Issue 16, findings 9 and 12, in a real browser against the real stack `npm start` runs: rooms and tabs
 * are routes (Back, Forward, a reload and a deep link keep them; the old #/room links still lead there);
 * a new tab of the same browser is signed in and can sign with the restored wallet; signing in lands in
 * the role's room; offline reads say so in words and offer Retry; the lender sees pledged collateral with
 * the borrower's word ("Pledged"); the running month is drawn apart, not as a fall to zero; the
 * scripts are sent compressed, and each room is a chunk of its own, fetched when the room is opened.
 */
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import path from "node:path";
import { expect } from "chai";
import type { BrowserContext, Page } from "playwright-core";
import {
  apply,
  AUDITOR,
  doneStep,
  expectNoHorizontalOverflow,
  LENDER,
  PHONE,
  REPO_ROOT,
  signIn,
  signOut,
  SUPPLIER,
  trackErrors,
  useDemoBrowser,
  WIDE,
} from "./nav-helpers";

describe("navigation: rooms and tabs are routes, the session follows the browser, offline says so", function () {
  this.timeout(300_000);

  const demo = useDemoBrowser();
  let supplierContext: BrowserContext;
  let supplier: Page;

  /** A second tab shares its context (session and storage) with the first: contexts and pages apart. */
  async function newContext(): Promise<BrowserContext> {
    const context = await demo.browser.newContext({ viewport: WIDE, locale: "en-US" });
    demo.contexts.push(context);
    return context;
  }
  async function newPage(context: BrowserContext, label: string): Promise<Page> {
    const page = await context.newPage();
    trackErrors(page, label, demo.pageErrors);
    return page;
  }
  const pathOf = (page: Page) => new URL(page.url()).pathname;
  async function selectedTab(page: Page): Promise<string> {
    return page.locator('[role="tab"][aria-selected="true"]').innerText();
  }

  it("keeps the room and tab in the URL: tabs and rooms are history entries, a reload and a deep link keep them", async function () {
    supplierContext = await newContext();
    supplier = await newPage(supplierContext, "supplier");
    await supplier.goto(`${demo.baseUrl}/`);
    await supplier.waitForURL(/\/manufacturer$/);
    await signIn(supplier, SUPPLIER);
    expect(pathOf(supplier)).to.equal("/manufacturer");
    expect(await selectedTab(supplier)).to.equal("Overview");

    await supplier.getByRole("tab", { name: "Orders" }).click();
    await supplier.waitForURL(/\/manufacturer\/orders$/);
    await supplier.getByRole("region", { name: "Orders" }).locator("tbody tr").first().waitFor();
    await supplier.getByRole("tab", { name: "Receivables" }).click();
    await supplier.waitForURL(/\/manufacturer\/receivables$/);
    // The keyboard moves between tabs, and the URL follows.
    await supplier.locator('[role="tab"][aria-selected="true"]', { hasText: "Receivables" }).waitFor();
    await supplier.getByRole("tab", { name: "Receivables" }).press("ArrowRight");
    await supplier.waitForURL(/\/manufacturer\/access$/);
    await supplier.getByRole("link", { name: "Court / auditor" }).click();
    await supplier.waitForURL(/\/court$/);
    await supplier.getByRole("heading", { name: "Court / auditor" }).waitFor();

    // Back walks the same way back, inside the app.
    await supplier.goBack();
    await supplier.waitForURL(/\/manufacturer\/access$/);
    await supplier.goBack();
    await supplier.waitForURL(/\/manufacturer\/receivables$/);
    expect(await selectedTab(supplier)).to.equal("Receivables");
    await supplier.goBack();
    await supplier.waitForURL(/\/manufacturer\/orders$/);
    expect(await selectedTab(supplier)).to.equal("Orders");
    await supplier.goForward();
    await supplier.waitForURL(/\/manufacturer\/receivables$/);
    expect(await selectedTab(supplier)).to.equal("Receivables");

    // A reload keeps the tab, and the session: no sign-in again.
    await supplier.reload();
    await supplier.locator(".signin .who", { hasText: SUPPLIER.name }).waitFor();
    expect(await selectedTab(supplier)).to.equal("Receivables");
    await supplier.getByRole("region", { name: "Receivables" }).locator("tbody tr").first().waitFor();

    // A deep link straight to a tab, and the old hash links.
    await supplier.goto(`${demo.baseUrl}/manufacturer/orders`);
    expect(await selectedTab(supplier)).to.equal("Orders");
    await supplier.goto(`${demo.baseUrl}/#/court`);
    await supplier.waitForURL(/\/court$/);
    // An unknown page says so, with the way back.
    await supplier.goto(`${demo.baseUrl}/no-such-room`);
    await supplier.getByRole("heading", { name: "No such page" }).waitFor();
    await supplier.getByRole("link", { name: "Manufacturer" }).last().click();
    await supplier.waitForURL(/\/manufacturer$/);
  });

  it("a new tab of the same browser is signed in, with the wallet to sign: it applies and signs the offer without signing in", async function () {
    const tab = await newPage(supplierContext, "supplier, second tab");
    await tab.goto(`${demo.baseUrl}/manufacturer/receivables`);
    await tab.locator(".signin .who", { hasText: SUPPLIER.name }).waitFor();
    expect(await tab.getByLabel("Demo account (dev chain only)").count()).to.equal(0);
    await tab.getByRole("region", { name: "Receivables" }).locator("tbody tr").first().waitFor();

    // Applying grants consent on chain and signing the offer signs with the wallet: both need the restored wallet.
    const id = await apply(tab, "120,000.00", LENDER.name);
    await tab.waitForURL(/\/manufacturer\/applications$/);
    await doneStep(tab, id, "offer_issued").waitFor({ timeout: 60_000 });
    await tab.locator(`article[data-application="${id}"]`).getByRole("button", { name: "Sign the offer" }).click();
    await doneStep(tab, id, "signed_by_borrower").waitFor({ timeout: 60_000 });
    await tab.close();
  });

  it("signing in takes each role to its room: a lender to the Lender room, an auditor to the court", async function () {
    const context = await newContext();
    const page = await newPage(context, "lender");
    await page.goto(`${demo.baseUrl}/manufacturer`);
    await signIn(page, LENDER);
    await page.waitForURL(/\/lender$/);
    await page.getByRole("region", { name: "Application queue" }).waitFor();
    expect(await page.getByText("not a registered supplier").count()).to.equal(0);

    // A lender who opens the manufacturer's room anyway is pointed to its own.
    await page.goto(`${demo.baseUrl}/manufacturer`);
    await page.getByText("This account is not a registered supplier").waitFor();
    await page.getByRole("link", { name: "Lender room" }).click();
    await page.waitForURL(/\/lender$/);

    await signOut(page);
    await signIn(page, AUDITOR);
    await page.waitForURL(/\/court$/);
    // Signed out in one tab is signed out in a new one too.
    await signOut(page);
    const fresh = await newPage(context, "lender, new tab after sign-out");
    await fresh.goto(`${demo.baseUrl}/lender`);
    await fresh.getByText("Sign in as a lender").waitFor();
    await fresh.close();
  });

  it("the lender sees the pledged collateral as 'Pledged', the word the borrower sees for the same receivable", async function () {
    const lender = await newPage(await newContext(), "lender");
    await lender.goto(`${demo.baseUrl}/lender/queue`);
    await signIn(lender, LENDER);
    const row = lender
      .getByRole("region", { name: "Application queue" })
      .locator("tbody tr", { hasText: /signed by borrower/i })
      .first();
    await row.getByRole("button", { name: /Open application/ }).click();
    const detail = lender.locator("section[data-application]");
    // The open application is in the URL: a reload reopens it.
    await lender.waitForURL(/\/lender\/queue\?application=[0-9a-f-]{36}$/);
    await detail.getByRole("button", { name: "Countersign" }).waitFor();
    await lender.reload();
    await detail.getByRole("button", { name: "Countersign" }).click();
    await detail.getByRole("button", { name: /^Disburse/ }).click({ timeout: 60_000 });
    await detail.locator('li[data-step="disbursed"].done').waitFor({ timeout: 60_000 });
    const loanId = await detail.getAttribute("data-loan-id");

    await lender.getByRole("tab", { name: "Portfolio" }).click();
    await lender.waitForURL(/\/lender\/portfolio$/);
    const loanRow = lender
      .getByRole("region", { name: "Portfolio" })
      // The row whose first cell is this loan's id ("#10" is also in collateral "#102").
      .locator("tbody tr", { has: lender.locator("td:first-child", { hasText: new RegExp(`^#${loanId}$`) }) });
    await loanRow.locator("ul.collateral .badge").first().waitFor();
    const collateral = await loanRow.locator("ul.collateral li").allInnerTexts();
    expect(collateral.length).to.be.greaterThan(0);
    for (const item of collateral) expect(item).to.match(/^#\d+ Pledged$/);

    await supplier.goto(`${demo.baseUrl}/manufacturer/receivables`);
    const receivables = supplier.getByRole("region", { name: "Receivables" });
    for (const item of collateral) {
      const id = /^#(\d+)/.exec(item)![1];
      const cells = receivables.locator("tbody tr", { has: supplier.locator("td:first-child", { hasText: new RegExp(`^#${id}$`) }) });
      expect(await cells.locator(".badge").innerText()).to.equal("Pledged");
    }
  });

  it("offline or unreachable: a read says the service cannot be reached and offers Retry; back online, it loads again", async function () {
    await supplier.goto(`${demo.baseUrl}/manufacturer/overview`);
    await supplier.locator('tr[data-metric="orderCount"]').waitFor();
    const orders = supplier.getByRole("region", { name: "Orders" });

    // The service cannot be reached (connection refused) while the browser is online: Retry tries again.
    await supplier.route("**/api/enterprises/*/orders*", (route) => route.abort("connectionrefused"));
    await supplier.getByRole("tab", { name: "Orders" }).click();
    const alert = orders.getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).to.match(/^Cannot reach the network service: you may be offline, or it is restarting\./);
    expect(await supplier.getByText("Failed to fetch").count()).to.equal(0);
    await supplier.unroute("**/api/enterprises/*/orders*");
    await alert.getByRole("button", { name: "Retry" }).click();
    await orders.locator("tbody tr").first().waitFor();

    // The browser goes offline: the same words and Retry; coming back online retries by itself.
    await supplier.getByRole("tab", { name: "Receivables" }).click();
    await supplier.getByRole("region", { name: "Receivables" }).locator("tbody tr").first().waitFor();
    await supplierContext.setOffline(true);
    await supplier.getByRole("tab", { name: "Orders" }).click();
    await orders.getByRole("alert").getByRole("button", { name: "Retry" }).waitFor();
    await supplierContext.setOffline(false);
    await orders.locator("tbody tr").first().waitFor();
    expect(await orders.getByRole("alert").count()).to.equal(0);

    // The browser itself reports the failed requests (and the live stream's drop): expected here, and only these.
    const expected = /ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|ERR_FAILED|ERR_NETWORK_CHANGED/;
    const unexpected = demo.pageErrors.filter((e) => !expected.test(e));
    demo.pageErrors.splice(0, demo.pageErrors.length, ...unexpected);
  });

  it("draws the running month apart (hollow, 'so far'), not as the line's fall to zero", async function () {
    await supplier.goto(`${demo.baseUrl}/manufacturer`);
    const chart = supplier.locator("figure.chart", { hasText: "Monthly order volume" });
    const partial = chart.locator('circle[data-partial="true"]');
    await partial.waitFor();
    expect(await partial.getAttribute("class")).to.include("partial");
    expect(await partial.locator("title").textContent()).to.match(/so far \(month not over\)/);
    expect(await chart.locator("figcaption").innerText()).to.match(/so far/);
    // The line ends at the last full month: its last vertex is left of the running month's dot.
    const lineEnd = await chart.locator("path.line").evaluate((p) => {
      const d = p.getAttribute("d") ?? "";
      const xs = [...d.matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]));
      return xs[xs.length - 1];
    });
    expect(lineEnd).to.be.lessThan(Number(await partial.getAttribute("cx")));
  });

  it("the manufacturer's tabs fit a 390 px screen when reached by address (no sideways scroll)", async function () {
    await supplier.setViewportSize(PHONE);
    for (const tab of ["overview", "apply", "applications", "loans", "consents", "orders", "receivables", "access", "webhook"]) {
      await supplier.goto(`${demo.baseUrl}/manufacturer/${tab}`);
      await supplier.waitForFunction(() => document.querySelector(".state.loading") === null);
      await expectNoHorizontalOverflow(supplier, `manufacturer/${tab}`);
    }
    await supplier.setViewportSize(WIDE);
  });

  it("sends the scripts compressed (br and gzip, much smaller than plain), the first page's script apart from each room's chunk", async function () {
    const html = await (await fetch(`${demo.baseUrl}/manufacturer`, { headers: { accept: "text/html" } })).text();
    const entry = /<script type="module" crossorigin src="([^"]+)"/.exec(html)?.[1];
    expect(entry, "the page's script").to.be.a("string");
    // What the first page loads: the entry and the chunks it preloads. The rooms come later, each on its own.
    const initial = [entry!, ...[...html.matchAll(/<link rel="modulepreload" crossorigin href="([^"]+\.js)"/g)].map((m) => m[1])];
    const all = (await readdir(path.join(REPO_ROOT, "web/dist/assets"))).filter((f) => f.endsWith(".js")).map((f) => `/assets/${f}`);
    expect(all).to.include.members(initial);
    const size = (file: string, encoding: string) =>
      new Promise<{ status?: number; bytes: number; encoding?: string; type?: string }>((resolve, reject) => {
        request(`${demo.baseUrl}${file}`, { headers: { "accept-encoding": encoding } }, (res) => {
          let bytes = 0;
          res.on("data", (c: Buffer) => (bytes += c.length));
          res.on("end", () =>
            resolve({ status: res.statusCode, bytes, encoding: res.headers["content-encoding"], type: res.headers["content-type"] }),
          );
        })
          .on("error", reject)
          .end();
      });
    const sum = async (files: string[]) => {
      const total = { plain: 0, gzip: 0, br: 0 };
      for (const file of files) {
        const [plain, gzip, br] = [await size(file, "identity"), await size(file, "gzip"), await size(file, "gzip, deflate, br")];
        expect(plain.status, file).to.equal(200);
        expect(plain.type, file).to.match(/javascript/);
        expect(plain.encoding, file).to.equal(undefined);
        // Express's compression leaves bodies under 1 kB alone.
        if (plain.bytes >= 1024) {
          expect([gzip.encoding, br.encoding], file).to.deep.equal(["gzip", "br"]);
          expect(br.bytes, file).to.be.lessThan(plain.bytes / 2);
        }
        total.plain += plain.bytes;
        total.gzip += gzip.bytes;
        total.br += br.bytes;
      }
      return total;
    };
    // A chunk of an older build (the page was loaded before a deploy) is a 404, not the app's page as script.
    const stale = await fetch(`${demo.baseUrl}/assets/Court-0ld8uild.js`, { headers: { accept: "*/*" } });
    expect(stale.status).to.equal(404);
    expect(stale.headers.get("content-type") ?? "").not.to.match(/html/);
    const first = await sum(initial);
    const total = await sum(all);
    // Each room is a chunk the entry imports on demand, not part of the first page's script.
    for (const room of ["Manufacturer", "Lender", "Court"]) {
      const chunk = all.find((f) => new RegExp(`^/assets/${room}-[\\w-]+\\.js$`).test(f));
      expect(chunk, `${room}'s chunk`).to.be.a("string");
      expect(initial, `${room} is lazy`).not.to.include(chunk);
    }
    const line = (t: { plain: number; gzip: number; br: number }) => `${t.plain} bytes plain, ${t.gzip} gzip, ${t.br} br`;
    console.log(`      first page (${initial.length} scripts, entry ${entry}): ${line(first)}`);
    console.log(`      all ${all.length} scripts: ${line(total)}`);
  });

  it("loads a room's chunk only when the room is opened: the court's chain code is not fetched for the manufacturer", async function () {
    const page = await newPage(await newContext(), "chunks");
    const scripts: string[] = [];
    page.on("response", (r) => {
      if (r.request().resourceType() === "script")
        scripts.push(`${new URL(r.url()).pathname} ${r.headers()["content-encoding"] ?? "identity"}`);
    });
    await page.goto(`${demo.baseUrl}/manufacturer`);
    await page.getByRole("heading", { name: "Manufacturer", level: 1 }).waitFor();
    expect(scripts.some((s) => s.startsWith("/assets/Manufacturer-"))).to.equal(true);
    expect(scripts.filter((s) => /\/assets\/(Court|Lender)-/.test(s))).to.deep.equal([]);
    await page.getByRole("link", { name: "Court / auditor" }).click();
    await page.getByRole("heading", { name: "Court / auditor", level: 1 }).waitFor();
    // Fetched once, compressed (which of br and gzip depends on what the browser offers over plain http).
    const court = scripts.filter((s) => s.startsWith("/assets/Court-"));
    expect(court).to.have.length(1);
    expect(court[0]).to.match(/ (br|gzip)$/);
    await page.context().close();
  });
});
