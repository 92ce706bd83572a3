/**
 * The standalone court verifier (web/dist/court-verifier.html, built by `npm run build`) in a real
 * browser, opened from disk with the service stopped and its data deleted: given the published
 * deployment file and the node's JSON-RPC address, it verifies a genuine agreement, a document
 * anchored only in a Merkle batch, and evidence bundles, and refuses the review's four forgeries and
 * a made-up agreement id without calling that tampering.
 */
import { expect } from "chai";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { ROLE } from "../../node-service/src/chain/eip712";
import { createTxSender } from "../../node-service/src/chain/sender";
import { openDocumentService, type DocumentService } from "../../node-service/src/documents/service";
import { sha256Hex } from "../../node-service/src/domain/hash";
import { startService, type RunningService } from "../../node-service/src/server";
import { signIn, testConfig, waitIndexed } from "../service/api-helpers";
import { admit } from "../../scripts/lib/chain-helpers";
import { useCourtChain, VERIFIER } from "./court-helpers";

const AGREEMENT = Buffer.from("Loan agreement: principal 500.00, 8% a year, 60 days, collateral: the receivable of order 1.\n");
const DELIVERY_NOTE = Buffer.from("Delivery note 7: 40 pallets received in good order.\n");

describe("the standalone court verifier, in a browser, with the service stopped", function () {
  this.timeout(300_000);
  const court = useCourtChain("scf-court-verifier-");
  let page: Page;
  let loanId: bigint;
  const bundles: Record<"agreement" | "deliveryNote", Record<string, unknown>> = {} as never;

  before(async function () {
    const { net, node, operator, supplier, buyer, lender, deployment, dataDir } = court;
    await admit(net, operator, [
      { account: operator.account.address, roles: ROLE.AUDITOR, name: "notary service" },
      { account: supplier.account.address, roles: ROLE.SUPPLIER },
      { account: buyer.account.address, roles: ROLE.BUYER },
      { account: lender.account.address, roles: ROLE.LENDER },
    ]);
    loanId = await court.recordAgreement(sha256Hex(AGREEMENT));

    // The service anchors an uploaded delivery note in a Merkle batch, then hands out the bundles.
    const docs: DocumentService = await openDocumentService({
      dataDir,
      publicClient: node.publicClient,
      deployment,
      sender: createTxSender({ publicClient: node.publicClient, walletClient: operator }),
      batchMaxCount: 256,
      batchMaxDelayMs: 3_600_000,
    });
    const service: RunningService = await startService(testConfig(dataDir, { RPC_URL: node.url, POLL_INTERVAL_MS: 100 }), {
      documents: docs,
    });
    try {
      await docs.start();
      const token = await signIn(service.url, supplier as never);
      for (const body of [DELIVERY_NOTE, Buffer.from("Delivery note 8: 12 pallets.\n"), Buffer.from("Delivery note 9: 3 pallets.\n")]) {
        const up = await fetch(`${service.url}/api/documents?kind=delivery_note`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
          body: new Uint8Array(body),
        });
        expect(up.status).to.equal(201);
      }
      const [batch] = await docs.batcher!.flush();
      expect(batch.hashes).to.include(sha256Hex(DELIVERY_NOTE));
      await waitIndexed(service, node.publicClient);
      for (const [name, url] of [
        ["agreement", `/api/evidence/bundle/agreement/${loanId}`],
        ["deliveryNote", `/api/evidence/bundle/document/${sha256Hex(DELIVERY_NOTE)}`],
      ] as const) {
        const res = await fetch(`${service.url}${url}`);
        expect(res.status, url).to.equal(200);
        bundles[name] = (await res.json()) as Record<string, unknown>;
      }
    } finally {
      // No service from here on: stopped, and its data deleted.
      await docs.stop();
      await service.close();
      await court.removeData();
    }

    page = await (await court.launchBrowser()).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(VERIFIER).href);
    await page.getByRole("heading", { name: "Court verifier" }).waitFor();
    await page
      .getByLabel("Published deployment file")
      .setInputFiles({ name: "deployment.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(deployment)) });
    await page.getByLabel("JSON-RPC address of a node").fill(node.url);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.locator("[data-connected]").waitFor({ timeout: 30_000 });
    expect(errors).to.deep.equal([]);
  });

  async function ask(query: string) {
    await page.getByLabel("sha256, agreement id or transaction hash").fill(query);
    await page.getByRole("button", { name: "Check", exact: true }).click();
  }

  async function drop(files: { name: string; body: Buffer | object }[]) {
    await page.getByLabel(/Drop a file here|将文件拖到此处/).setInputFiles(
      files.map((f) => ({
        name: f.name,
        mimeType: "application/octet-stream",
        buffer: Buffer.isBuffer(f.body) ? f.body : Buffer.from(JSON.stringify(f.body)),
      })),
    );
  }

  const verdictText = async (selector: string) => {
    const v = page.locator(selector);
    await v.waitFor({ timeout: 60_000 });
    return v.innerText();
  };

  it("verifies a genuine agreement by its id: both parties signed and are registered, times in UTC and local", async function () {
    await ask(loanId.toString());
    const text = await verdictText('.verdict[data-verdict="anchored"]');
    expect(text).to.match(new RegExp(`Signed loan agreement #${loanId}\\b`));
    expect(text).to.include("signed by the borrower and the lender, registered participants");
    expect(text).to.match(/UTC \(your time: /);
  });

  it("says a made-up agreement id does not exist, without calling it tampering", async function () {
    await ask("999");
    const text = await verdictText('.verdict[data-verdict="no-such-agreement"]');
    expect(text).to.include("No agreement #999 on this chain");
    expect(text).to.include("says nothing about tampering");
    expect(await page.locator('.verdict[data-verdict="anchored"]').count(), "the earlier verdict is gone").to.equal(0);
  });

  it("verifies a document anchored only in a Merkle batch, with the proof its bundle carries, and the bundle itself", async function () {
    await drop([
      { name: "delivery-note-7.txt", body: DELIVERY_NOTE },
      { name: "evidence-document.json", body: bundles.deliveryNote },
    ]);
    const bundleText = await verdictText('.verdict[data-verdict="bundle-verified"]');
    expect(bundleText).to.include("What the checks prove");
    expect(bundleText).to.include(`The document with sha256 ${sha256Hex(DELIVERY_NOTE)} is in a Merkle batch of 3 documents`);
    const docText = await verdictText('.verdict[data-verdict="anchored"]');
    expect(docText).to.include("Anchored document");
    expect(await page.locator('.verdict[data-verdict="anchored"] li[data-via="batch"]').count()).to.equal(1);
  });

  it("verifies the agreement's bundle with the agreement document dropped beside it", async function () {
    await drop([
      { name: "evidence-agreement.json", body: bundles.agreement },
      { name: "agreement.txt", body: AGREEMENT },
    ]);
    const text = await verdictText('.verdict[data-verdict="bundle-verified"]');
    expect(text).to.include(`Loan agreement ${loanId} between borrower`);
    await page.getByText("Every check").click();
    expect(await page.locator(".verdict li.pass", { hasText: "file agreement.txt: sha256" }).count()).to.equal(1);
  });

  it("refuses the four forgeries: nothing left, a made-up agreement, a never-anchored document, an edited summary", async function () {
    const genuine = bundles.agreement as { summary: string; agreement: Record<string, string> };
    const neverAnchored = sha256Hex(Buffer.from("never anchored"));
    const forgeries: [string, object, string][] = [
      ["emptied", { ...genuine, events: [], signatures: [], documents: [], participants: [] }, `subject: agreement ${loanId}`],
      [
        "made-up",
        {
          ...genuine,
          id: "99",
          summary: "Loan agreement 99: principal 250000000 minor units.",
          agreement: { ...genuine.agreement, loanId: "99" },
          events: [],
          signatures: [],
          documents: [],
          participants: [],
        },
        "subject: agreement 99",
      ],
      ["never anchored", { ...bundles.deliveryNote, id: neverAnchored }, `subject: document ${neverAnchored}`],
      [
        "summary edited",
        { ...genuine, summary: genuine.summary.replace("(50000 minor units)", "(5000000 minor units)") },
        "summary: says only what the checked facts say",
      ],
    ];
    for (const [what, forged, failed] of forgeries) {
      await drop([{ name: `${what}.json`, body: forged }]);
      const text = await verdictText('.verdict[data-verdict="bundle-not-verified"]');
      expect(text, what).to.include("Do not rely on this bundle");
      expect(text, what).to.include(failed);
      expect(text, what).not.to.include("What the checks prove");
      expect(text, what).not.to.include("250000000");
    }
  });

  it("reads a verified bundle and a forged one in Chinese: every check, failure and time line from its code", async function () {
    await page.locator("select.language").selectOption("zh");
    await page.getByRole("heading", { name: "法院核验器" }).waitFor();
    // English words of the verifier's sentences (not identifiers, hashes or times) that must not be left.
    const english = /\b(the|is|of|bundle|block|says|signature|signed|recorded|anchored|verified|claim|step|gives)\b/i;
    const left = (text: string) =>
      text
        .replace(/0x[0-9a-fA-F]+…?/g, " ")
        .replace(/scf-evidence-bundle\/\d+/g, " ")
        // Quoted: the bundle's own English summary.
        .replace(/“[^”]*”/g, " ")
        .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, " ")
        .replace(/\b[A-Za-z]+[A-Z][A-Za-z0-9]*\b/g, " ")
        .split("\n")
        .filter((line) => english.test(line));
    try {
      await drop([
        { name: "evidence-agreement.json", body: bundles.agreement },
        { name: "agreement.txt", body: AGREEMENT },
      ]);
      const verified = page.locator('.verdict[data-verdict="bundle-verified"]');
      await verified.waitFor({ timeout: 60_000 });
      await verified.locator("details summary").click();
      const checks = verified.locator("ul.checks");
      const checksText = await checks.innerText();
      expect(checksText).to.include("摘要：只陈述经核验的事实 — 证据包的摘要与根据其事实重新计算的陈述逐字一致");
      expect(checksText).to.include("文件 agreement.txt：sha256 — ");
      // A plain wallet's signature is recovered in the page itself (ECDSA), never reported as an ERC-1271 wallet's.
      expect(checksText).to.match(/借款人的签名：签名人 — 恢复出签名人 0x[0-9a-fA-F]{40}（ECDSA）/);
      expect(checksText).to.not.include("ERC-1271");
      expect(checksText).to.match(/合同 \d+：链上借款 — 借款 \d+：0x[0-9a-f]{40} 向 0x[0-9a-f]{40} 借款，本金 ¥500\.00/);
      expect(checksText).to.match(/链：链 ID — 节点是链 \d+，与证据包一致/);
      expect(await checks.locator('[lang="en"]').count(), "checks left in English").to.equal(0);
      expect(left(checksText)).to.deep.equal([]);
      // The statements of the facts and the time line (no RFC 3161 token here) are written from their codes:
      // amounts in ¥ and major units, times in UTC and local time, no English sentence left.
      const confirmed = verified.locator("ul.confirmed");
      const confirmedText = await confirmed.innerText();
      expect(confirmedText).to.include("该证据包不含 RFC 3161 时间戳：以上所有时间都只来自出块者的时钟。");
      expect(confirmedText).to.match(new RegExp(`借款合同 ${loanId}，借款人 0x[0-9a-f]{40}，贷款人 0x[0-9a-f]{40}：本金 ¥500\\.00`));
      expect(confirmedText).to.include("的签署方：借款人和贷款人；");
      expect(confirmedText).to.match(/UTC（您的当地时间：/);
      expect(confirmedText).to.not.include("minor units");
      expect(await confirmed.locator('[lang="en"]').count(), "statements left in English").to.equal(0);
      expect(left(confirmedText)).to.deep.equal([]);

      const genuine = bundles.agreement as { summary: string; signatures: { signature: string }[] };
      const forged = {
        ...genuine,
        summary: genuine.summary.replace("(50000 minor units)", "(5000000 minor units)"),
        // The lender's signature replaced by the borrower's: recovers the wrong signer, and the chain recorded another.
        signatures: genuine.signatures.map((s, i) => (i === 1 ? { ...s, signature: genuine.signatures[0].signature } : s)),
      };
      await drop([{ name: "forged.json", body: forged }]);
      const refused = page.locator('.verdict[data-verdict="bundle-not-verified"]');
      await refused.waitFor({ timeout: 60_000 });
      const failed = refused.locator("ul.failed");
      const failedText = await failed.innerText();
      await refused.getByRole("heading", { name: "请勿依赖此证据包。失败的检查：" }).waitFor();
      expect(failedText).to.include("摘要：只陈述经核验的事实：摘要写的是“");
      // The borrower's signature in the lender's place recovers the borrower: a wrong signer, named.
      expect(failedText).to.match(/贷款人的签名：签名人：签名恢复出 0x[0-9a-fA-F]{40}，而不是 0x[0-9a-fA-F]{40}/);
      expect(failedText).to.include("贷款人的签名：链上记录：链上的 lenderSignature 不同");
      expect(await failed.locator('[lang="en"]').count(), "failures left in English").to.equal(0);
      expect(left(failedText)).to.deep.equal([]);
    } finally {
      await page.locator("select.language").selectOption("en");
      await page.getByRole("heading", { name: "Court verifier" }).waitFor();
    }
  });

  it("refuses a file that is not a deployment file with a sentence", async function () {
    await page
      .getByLabel("Published deployment file")
      .setInputFiles({ name: "bundle.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(bundles.agreement)) });
    await page.getByText("is an evidence bundle, not a deployment file").waitFor();
  });
});
