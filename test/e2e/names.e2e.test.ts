/**
 * Issue 16 finding 5 in a real browser: the standalone court verifier (web/dist/court-verifier.html,
 * built by `npm run build`), with the service stopped, names an agreement's parties by the names its
 * evidence bundle carries, each checked against the registry's on-chain commitment: "verified name"
 * when the opening matches, "claim, not matched" (and the bundle not verified) when the name was
 * forged. In English and Simplified Chinese, at 1440 px and at 390 px without spilling sideways.
 */
import { expect } from "chai";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { ROLE } from "../../node-service/src/chain/eip712";
import { sha256Hex } from "../../node-service/src/domain/hash";
import { displayNameHash, displayNameSalt } from "../../node-service/src/domain/kyc-attributes";
import { writeParticipantNames } from "../../node-service/src/participants/directory";
import { startService } from "../../node-service/src/server";
import { testConfig, waitIndexed } from "../service/api-helpers";
import { send, type Wallet } from "../../scripts/lib/chain-helpers";
import { useCourtChain, VERIFIER } from "./court-helpers";

const KEY = Buffer.alloc(32, 0x6e);
const SUPPLIER_NAME = "深圳华信电子有限公司";
const LENDER_NAME = "Lingnan Commercial Bank 岭南商业银行";

describe("parties by verified name in the court verifier, in a browser (issue 16 finding 5)", function () {
  this.timeout(300_000);
  const court = useCourtChain("scf-names-e2e-");
  let bundle: { participants: { address: string; name?: string }[] } & Record<string, unknown>;
  let parties: { supplier: string; lender: string };

  before(async function () {
    const { net, node, operator, supplier, buyer, lender, dataDir } = court;
    const names: [Wallet, number, string][] = [
      [supplier, ROLE.SUPPLIER, SUPPLIER_NAME],
      [buyer, ROLE.BUYER, "Guangzhou Buyer Group"],
      [lender, ROLE.LENDER, LENDER_NAME],
    ];
    // Admitted as the seed admits: the display name as a salted commitment the operator can open.
    for (const [w, roles, name] of names) {
      const a = w.account.address;
      await send(net, operator, "ParticipantRegistry", "admit", [a, roles, sha256Hex(`kyc:${a}`), displayNameHash(KEY, a, name), []]);
    }
    parties = { supplier: supplier.account.address.toLowerCase(), lender: lender.account.address.toLowerCase() };
    const loanId = await court.recordAgreement(sha256Hex("Loan agreement with names.\n"));

    await writeParticipantNames(
      dataDir,
      names.map(([w, , name]) => ({ address: w.account.address, name, salt: displayNameSalt(KEY, w.account.address) })),
    );
    const service = await startService(testConfig(dataDir, { RPC_URL: node.url, POLL_INTERVAL_MS: 100 }));
    try {
      await waitIndexed(service, node.publicClient);
      const res = await fetch(`${service.url}/api/evidence/bundle/agreement/${loanId}`);
      expect(res.status).to.equal(200);
      bundle = (await res.json()) as typeof bundle;
    } finally {
      await service.close();
      await court.removeData();
    }
    expect(bundle.participants.find((p) => p.address === parties.lender)?.name).to.equal(LENDER_NAME);

    await court.launchBrowser();
  });

  /** The standalone verifier, connected to the node, at a width and in a language. */
  async function openVerifier(width: number, lang: "en" | "zh"): Promise<{ page: Page; errors: string[] }> {
    const context = await court.browser!.newContext({ viewport: { width, height: 900 }, locale: lang === "zh" ? "zh-CN" : "en-US" });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(pathToFileURL(VERIFIER).href);
    await page.locator("#deployment-file").setInputFiles({
      name: "deployment.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(court.deployment)),
    });
    await page.locator("#rpc-url").fill(court.node.url);
    await page.locator("#rpc-url").press("Enter");
    await page.locator("[data-connected]").waitFor({ timeout: 30_000 });
    return { page, errors };
  }

  async function dropBundle(page: Page, body: object) {
    await page.locator("#evidence-file").setInputFiles({
      name: "evidence-agreement.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(body)),
    });
  }

  for (const width of [1440, 390]) {
    it(`names both parties by verified name with their addresses, at ${width} px`, async function () {
      const { page, errors } = await openVerifier(width, "en");
      await dropBundle(page, bundle);
      const verdict = page.locator('.verdict[data-verdict="bundle-verified"]');
      await verdict.waitFor({ timeout: 60_000 });
      const names = page.locator('.party-names li[data-name-status="verified"]');
      expect(await names.count()).to.be.greaterThanOrEqual(2);
      const text = await page.locator(".party-names").innerText();
      expect(text).to.contain(`${SUPPLIER_NAME} verified name ${parties.supplier}`);
      expect(text).to.contain(`${LENDER_NAME} verified name ${parties.lender}`);
      // The statements name the signers too, with the address beside the name.
      expect(await verdict.innerText()).to.contain(`lender “${LENDER_NAME}” (${parties.lender})`);
      // The names and their addresses wrap within the screen (the rest of the court page's layout at 390 px is finding 10's).
      const widest = await page.$$eval(".party-names li, .party-names code", (els) =>
        Math.max(...els.map((e) => e.getBoundingClientRect().right)),
      );
      expect(widest, "the names stay within the screen").to.be.at.most(width);
      expect(errors).to.deep.equal([]);
      await page.context().close();
    });
  }

  it("labels a forged name a claim, not matched, and does not verify the bundle, in Chinese", async function () {
    const { page, errors } = await openVerifier(390, "zh");
    const forged = structuredClone(bundle);
    forged.participants.find((p) => p.address === parties.lender)!.name = "Some Other Bank";
    await dropBundle(page, forged);
    await page.locator('.verdict[data-verdict="bundle-not-verified"]').waitFor({ timeout: 60_000 });
    const claim = page.locator('.party-names li[data-name-status="claim"]');
    expect(await claim.count()).to.equal(1);
    expect(await claim.innerText())
      .to.contain("Some Other Bank")
      .and.to.contain("声明，未匹配")
      .and.to.contain(parties.lender);
    expect(await page.locator('.party-names li[data-name-status="verified"]').innerText())
      .to.contain(SUPPLIER_NAME)
      .and.to.contain("已核验名称");
    // The failed name check, in the page's language, with the same words as the names list.
    expect(await page.locator(".verdict").first().innerText()).to.contain("声明，未匹配：“Some Other Bank”");
    expect(errors).to.deep.equal([]);
    await page.context().close();
  });
});
