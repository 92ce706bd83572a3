/**
 * Issue 16 finding 5 in a real browser: the standalone court verifier (web/dist/court-verifier.html,
 * built by `npm run build`), with the service stopped, names an agreement's parties by the names its
 * evidence bundle carries, each checked against the registry's on-chain commitment: "verified name"
 * when the opening matches, "claim, not matched" (and the bundle not verified) when the name was
 * forged. In English and Simplified Chinese, at 1440 px and at 390 px without spilling sideways.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { createWalletClient, http } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { REPO_ROOT, type Deployment } from "../../node-service/src/chain/contracts";
import { ROLE } from "../../node-service/src/chain/eip712";
import { sha256Hex } from "../../node-service/src/domain/hash";
import { displayNameHash, displayNameSalt } from "../../node-service/src/domain/kyc-attributes";
import { writeParticipantNames } from "../../node-service/src/participants/directory";
import { startService } from "../../node-service/src/server";
import { deployAll } from "../../scripts/lib/deploy";
import { testConfig, waitIndexed } from "../service/api-helpers";
import {
  createDeliveredOrder,
  issueConfirmedReceivable,
  send,
  signAndSubmitAgreement,
  startHardhatNode,
  type HardhatNode,
  type Net,
  type Wallet,
  DEV_MNEMONIC,
} from "../../scripts/lib/chain-helpers";
import { chromiumLaunch } from "./browser";

const VERIFIER = path.join(REPO_ROOT, "web/dist/court-verifier.html");
const KEY = Buffer.alloc(32, 0x6e);
const SUPPLIER_NAME = "深圳华信电子有限公司";
const LENDER_NAME = "Lingnan Commercial Bank 岭南商业银行";

describe("parties by verified name in the court verifier, in a browser (issue 16 finding 5)", function () {
  this.timeout(300_000);
  let node: HardhatNode;
  let deployment: Deployment;
  let dir: string;
  let browser: Browser;
  let bundle: { participants: { address: string; name?: string }[] } & Record<string, unknown>;
  let parties: { supplier: string; lender: string };

  before(async function () {
    if (!existsSync(VERIFIER)) throw new Error(`${VERIFIER} is missing: run "npm run build" first`);
    node = await startHardhatNode();
    const wallet = (i: number) =>
      createWalletClient({
        chain: hardhat,
        transport: http(node.url),
        account: mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }),
        pollingInterval: 50,
      }) as Wallet;
    const [operator, supplier, buyer, lender] = [0, 1, 2, 3].map(wallet);
    deployment = await deployAll({ publicClient: node.publicClient, walletClient: operator });
    const net: Net = { publicClient: node.publicClient, deployment };
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
    const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: 80_000n });
    const { receivableId } = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 80_000n, signedAck: true });
    const { loanId } = await signAndSubmitAgreement(net, {
      borrower: supplier,
      lender,
      principal: 50_000n,
      collateral: [receivableId],
      documentHash: sha256Hex("Loan agreement with names.\n"),
    });

    dir = await mkdtemp(path.join(os.tmpdir(), "scf-names-e2e-"));
    const dataDir = path.join(dir, "data");
    await mkdir(dataDir);
    await writeFile(path.join(dataDir, "deployment.json"), JSON.stringify(deployment));
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
      await rm(dataDir, { recursive: true, force: true });
    }
    expect(bundle.participants.find((p) => p.address === parties.lender)?.name).to.equal(LENDER_NAME);

    const launch = await chromiumLaunch();
    browser = await chromium.launch({ executablePath: launch.executablePath, args: launch.args });
  });

  after(async function () {
    await browser?.close();
    await node?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The standalone verifier, connected to the node, at a width and in a language. */
  async function openVerifier(width: number, lang: "en" | "zh"): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, locale: lang === "zh" ? "zh-CN" : "en-US" });
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
      buffer: Buffer.from(JSON.stringify(deployment)),
    });
    await page.locator("#rpc-url").fill(node.url);
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
    expect(await page.locator(".verdict").first().innerText()).to.contain("claim, not matched: “Some Other Bank”");
    expect(errors).to.deep.equal([]);
    await page.context().close();
  });
});
