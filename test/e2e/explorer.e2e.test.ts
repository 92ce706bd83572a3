/**
 * Transaction hashes and the block explorer, in a real browser against the real stack that `npm start`
 * runs: with EXPLORER_TX_URL set, a hash in the borrower's loan history and on the pending-consent card
 * is a link to the template with the hash filled in (its href checked, never followed); without it, the
 * same hashes are plain text. And a sign-in the service refuses reads in the user's language. Any
 * console error or page error not expected here fails the test.
 */
import { expect } from "chai";
import type { Page } from "playwright-core";
import { LENDER, SUPPLIER, applyWithConsentSent, doneStep, signIn, useDemoBrowser, type DemoBrowser } from "./nav-helpers";

const TEMPLATE = "https://explorer.example/tx/{hash}?net=scf";

/** A JSON-RPC call to the stack's chain (a loopback address, as /api/config gives it). */
async function rpc(demo: DemoBrowser, method: string, params: unknown[] = []): Promise<unknown> {
  const config = (await (await fetch(`${demo.baseUrl}/api/config`)).json()) as { publicRpcUrl: string };
  const url = new URL(config.publicRpcUrl);
  expect(["127.0.0.1", "localhost", "[::1]"]).to.include(url.hostname);
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** How each transaction hash of an element is shown: the full hash (its title), and the link around it, if any. */
async function hashesIn(
  page: Page,
  selector: string,
): Promise<{ hash: string; href: string | null; target: string | null; rel: string | null }[]> {
  return page.locator(selector).evaluateAll((els) =>
    els.flatMap((el) =>
      Array.from(el.querySelectorAll("code[title^='0x']")).map((code) => {
        const a = code.closest("a");
        return {
          hash: code.getAttribute("title")!,
          href: a?.getAttribute("href") ?? null,
          target: a?.getAttribute("target") ?? null,
          rel: a?.getAttribute("rel") ?? null,
        };
      }),
    ),
  );
}

/** The borrower's loan history (the seed gives the supplier a repaid loan): the hashes of its transactions. */
async function loanHistory(demo: DemoBrowser) {
  const page = await demo.open("loan history", "manufacturer");
  await signIn(page, SUPPLIER);
  await page.getByRole("tab", { name: "My loans" }).click();
  const history = page.getByRole("table", { name: /Money moved/ }).first();
  await history.locator("tbody tr").first().waitFor({ timeout: 30_000 });
  const hashes = await hashesIn(page, "article.loan table");
  expect(hashes.length, "transaction hashes in the loan history").to.be.greaterThan(0);
  for (const h of hashes) expect(h.hash).to.match(/^0x[0-9a-f]{64}$/);
  await page.context().close();
  return hashes;
}

/**
 * Applies with mining paused, so the consent transaction the wallet sends stays pending: the card then
 * shows "consent sent, waiting for the chain" with its hash. Returns the page, the card and the hash;
 * `finish` mines it and waits until the application has its consent.
 */
async function pendingConsent(demo: DemoBrowser) {
  const page = await demo.open("consent pending", "manufacturer");
  await signIn(page, SUPPLIER);
  await rpc(demo, "evm_setAutomine", [false]);
  let tx: string;
  try {
    tx = await applyWithConsentSent(page, "50,000.00", LENDER.name);
    await page.getByRole("tab", { name: /Applications/ }).click();
    await page.locator(`.pending-consent[data-consent-tx="${tx}"]`).waitFor({ timeout: 30_000 });
  } catch (err) {
    await rpc(demo, "evm_setAutomine", [true]);
    throw err;
  }
  const card = page.locator("article.application", { has: page.locator(`.pending-consent[data-consent-tx="${tx}"]`) });
  const id = (await card.getAttribute("data-application"))!;
  const finish = async () => {
    await rpc(demo, "evm_setAutomine", [true]);
    await rpc(demo, "evm_mine");
    await doneStep(page, id, "consent_granted").waitFor({ timeout: 60_000 });
    await page.context().close();
  };
  return { page, tx, hashes: await hashesIn(page, `article[data-application="${id}"] .pending-consent`), finish };
}

describe("transaction hashes link to the block explorer when EXPLORER_TX_URL is set", function () {
  this.timeout(300_000);
  const demo = useDemoBrowser({ env: { EXPLORER_TX_URL: TEMPLATE } });
  const linkOf = (hash: string) => TEMPLATE.replace("{hash}", hash);

  it("links every transaction of the borrower's loan history to the explorer's page of its hash", async function () {
    for (const h of await loanHistory(demo)) {
      expect(h.href, h.hash).to.equal(linkOf(h.hash));
      // A new tab, without handing the explorer this page.
      expect(h.target).to.equal("_blank");
      expect(h.rel).to.include("noopener");
    }
  });

  it("links the consent transaction on the pending-consent card", async function () {
    const { tx, hashes, finish } = await pendingConsent(demo);
    try {
      expect(hashes).to.deep.equal([{ hash: tx, href: linkOf(tx), target: "_blank", rel: "noopener noreferrer" }]);
    } finally {
      await finish();
    }
  });
});

describe("transaction hashes are plain text without EXPLORER_TX_URL; a refused sign-in in the user's language", function () {
  this.timeout(300_000);
  const demo = useDemoBrowser();

  it("shows the loan history's and the pending consent's hashes as text, not links", async function () {
    const history = await loanHistory(demo);
    expect(history.filter((h) => h.href !== null)).to.deep.equal([]);
    const { tx, hashes, finish } = await pendingConsent(demo);
    try {
      expect(hashes).to.deep.equal([{ hash: tx, href: null, target: null, rel: null }]);
    } finally {
      await finish();
    }
  });

  it("shows the service's refusal of a sign-in in Chinese in the sign-in box", async function () {
    const page = await demo.open("sign-in refused", "manufacturer", { locale: "zh-CN" });
    // The signed message altered on its way (another chain): the service refuses it, with its code.
    await page.route("**/api/auth/verify", async (route) => {
      const body = route.request().postDataJSON() as { message: string; signature: string };
      await route.continue({ postData: JSON.stringify({ ...body, message: body.message.replace(/Chain ID: \d+/, "Chain ID: 1") }) });
    });
    await page.getByLabel("演示账户（仅限开发链）").selectOption(String(SUPPLIER.index));
    await page.getByRole("button", { name: "登录", exact: true }).click();
    const alert = page.locator(".signin").getByRole("alert");
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.innerText()).to.match(/^该登录消息针对链 1，而本网络的链是 \d+。$/);
    // Once the message goes as signed, the same box signs in.
    await page.unroute("**/api/auth/verify");
    await page.getByRole("button", { name: "登录", exact: true }).click();
    await page.locator(".signin .who", { hasText: SUPPLIER.name }).waitFor();
    // The browser reports the refused request itself: expected here, and only that.
    const unexpected = demo.pageErrors.filter((e) => !/status of 401 .*\/api\/auth\/verify/.test(e));
    demo.pageErrors.splice(0, demo.pageErrors.length, ...unexpected);
  });
});
