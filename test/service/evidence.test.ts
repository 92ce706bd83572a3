/**
 * A court's path end to end, against a real `hardhat node` over HTTP: a signed agreement's PDF gives
 * the verdict through the service; the exported bundle verifies with scripts/verify-evidence.ts (a
 * child process with --rpc) after the service's data directory is deleted; every tampering fails
 * with the check that caught it named.
 */
import { expect } from "chai";
import { displayNameCommitment } from "../../node-service/src/domain/name-commitment";
import { writeParticipantNames } from "../../node-service/src/participants/directory";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createPublicClient, createWalletClient, http, pad, toHex, type Address, type Hex, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { allAbis, REPO_ROOT, readArtifact, type Deployment } from "../../node-service/src/chain/contracts";
import { loanTermsTypedData, ROLE, type LoanTerms } from "../../node-service/src/chain/eip712";
import type { Batcher } from "../../node-service/src/documents/batcher";
import { openDocumentService, type DocumentService } from "../../node-service/src/documents/service";
import { createTxSender } from "../../node-service/src/chain/sender";
import { sha256Hex } from "../../node-service/src/domain/hash";
import { verifyBundle } from "../../node-service/src/evidence/verify";
import { startService, type RunningService } from "../../node-service/src/server";
import { deployAll } from "../../scripts/lib/deploy";
import { call, signIn, testConfig, waitIndexed } from "./api-helpers";
import {
  DAY,
  admit,
  createDeliveredOrder,
  eventsIn,
  freePort,
  fundAndApprove,
  issueConfirmedReceivable,
  latestTime,
  send,
  signAndSubmitAgreement,
  type Net,
  type Wallet,
  DEV_MNEMONIC,
  TS_NODE_BIN,
} from "../../scripts/lib/chain-helpers";

const LENDER_NAME = "Lingnan Test Bank 岭南";
const LENDER_SALT = `0x${"a5".repeat(32)}` as const;
const AGREEMENT_PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
    "% Loan agreement: principal 600.00, 10% a year, 30 days, collateral: receivable of order 1.\n" +
    "trailer << /Root 1 0 R >>\n%%EOF\n",
);

/** Runs a command to its end; resolves with its exit code and output. */
function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function verifyScript(args: string[]) {
  return run(process.execPath, [TS_NODE_BIN, "--transpile-only", path.join(REPO_ROOT, "scripts/verify-evidence.ts"), ...args]);
}

const failLines = (out: string) => out.split("\n").filter((l) => l.startsWith("FAIL"));

describe("evidence that stands in court", function () {
  this.timeout(300_000);
  let node: ChildProcess | undefined;
  let rpcUrl: string;
  let publicClient: PublicClient;
  let chainNet: Net;
  let deployment: Deployment;
  let w: Record<"operator" | "supplier" | "buyer" | "lender" | "walletOwner" | "auditor", Wallet>;
  let dataDir: string;
  let service: RunningService | undefined;
  let docs: DocumentService;
  let batcher: Batcher;
  let base: string;
  let pdfSha: Hex;
  let loan: { loanId: bigint; digest: Hex; terms: LoanTerms; borrowerSignature: Hex; lenderSignature: Hex };
  let contractWallet: Address;
  let walletLoanId: bigint;
  let receivableId: bigint;
  let orderId: bigint;
  let payTx: Hex;
  /** An auditor's session: order and receivable lookups need a consortium member's. */
  let auditorToken: string;

  before(async function () {
    const port = await freePort();
    rpcUrl = `http://127.0.0.1:${port}`;
    // Detached: its own process group, so the whole group (npx and the node under it) can be stopped by id.
    node = spawn("npx", ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: REPO_ROOT,
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`hardhat node did not start:\n${out}`)), 90_000);
      node!.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("Started HTTP")) {
          clearTimeout(timer);
          resolve();
        }
      });
      node!.stderr!.on("data", (d) => (out += d));
      node!.on("exit", (code) => reject(new Error(`hardhat node exited with ${code}:\n${out}`)));
    });

    const transport = http(rpcUrl);
    publicClient = createPublicClient({ chain: hardhat, transport, pollingInterval: 50 }) as PublicClient;
    const wallet = (i: number) =>
      createWalletClient({
        chain: hardhat,
        transport,
        account: mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }),
        pollingInterval: 50,
      }) as Wallet;
    w = { operator: wallet(0), supplier: wallet(1), buyer: wallet(2), lender: wallet(3), walletOwner: wallet(4), auditor: wallet(5) };
    deployment = await deployAll({ publicClient, walletClient: w.operator });
    chainNet = { publicClient, deployment };

    // A contract wallet (ERC-1271) acting as a second lender, owned by walletOwner.
    const { abi, bytecode } = readArtifact("ERC1271Wallet", "mocks");
    const deployHash = await w.walletOwner.deployContract({ abi, bytecode, args: [w.walletOwner.account.address] });
    contractWallet = (await publicClient.waitForTransactionReceipt({ hash: deployHash })).contractAddress!;

    await admit(chainNet, w.operator, [
      { account: w.operator.account.address, roles: ROLE.AUDITOR, name: "notary service" },
      { account: w.supplier.account.address, roles: ROLE.SUPPLIER },
      { account: w.buyer.account.address, roles: ROLE.BUYER },
      { account: contractWallet, roles: ROLE.LENDER },
      { account: w.auditor.account.address, roles: ROLE.AUDITOR },
    ]);
    // The lender's display name committed as the seed does (a salted commitment), so bundles may carry it with its salt.
    await send(chainNet, w.operator, "ParticipantRegistry", "admit", [
      w.lender.account.address,
      ROLE.LENDER,
      sha256Hex(`kyc:${w.lender.account.address}`),
      displayNameCommitment(LENDER_SALT, LENDER_NAME),
      [],
    ]);
    orderId = await createDeliveredOrder(chainNet, { buyer: w.buyer, supplier: w.supplier, amount: 100_000n });
    ({ receivableId } = await issueConfirmedReceivable(chainNet, {
      supplier: w.supplier,
      buyer: w.buyer,
      orderId,
      faceValue: 100_000n,
      signedAck: true,
    }));

    // The service, with the document store and the evidence API mounted.
    dataDir = await mkdtemp(path.join(os.tmpdir(), "scf-evidence-"));
    await writeFile(path.join(dataDir, "deployment.json"), JSON.stringify(deployment));
    // Names the operator published: the lender's matches its on-chain commitment, the supplier's does not.
    await writeParticipantNames(dataDir, [
      { address: w.lender.account.address, name: LENDER_NAME, salt: LENDER_SALT },
      { address: w.supplier.account.address, name: "Not The Committed Name Ltd.", salt: LENDER_SALT },
    ]);
    docs = await openDocumentService({
      dataDir,
      publicClient,
      deployment,
      sender: createTxSender({ publicClient, walletClient: w.operator }),
      batchMaxCount: 256,
      batchMaxDelayMs: 3_600_000,
    });
    batcher = docs.batcher!;
    service = await startService(testConfig(dataDir, { RPC_URL: rpcUrl, POLL_INTERVAL_MS: 100 }), { documents: docs });
    await docs.start();
    base = service.url;

    // The borrower uploads the agreement PDF; the service anchors it in a batch; the lender also anchors it alone.
    const token = await signIn(base, w.supplier as never);
    auditorToken = await signIn(base, w.auditor as never);
    const up = await fetch(`${base}/api/documents?kind=agreement`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
      body: new Uint8Array(AGREEMENT_PDF),
    });
    expect(up.status).to.equal(201);
    pdfSha = sha256Hex(AGREEMENT_PDF);
    for (let i = 0; i < 4; i++) {
      const other = await fetch(`${base}/api/documents?kind=delivery_note`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
        body: new Uint8Array(Buffer.from(`Delivery note ${i}: goods received.\n`)),
      });
      expect(other.status).to.equal(201);
    }
    const [batch] = await batcher.flush();
    expect(batch.count).to.equal(5);
    expect(batch.hashes).to.include(pdfSha);
    await send(chainNet, w.lender, "EvidenceNotary", "anchor", [pdfSha, 4, pad(toHex("agreement"), { dir: "right", size: 32 })]);

    loan = await signAndSubmitAgreement(chainNet, {
      borrower: w.supplier,
      lender: w.lender,
      principal: 60_000n,
      collateral: [receivableId],
      documentHash: pdfSha,
    });
    await fundAndApprove(chainNet, w.operator, w.lender, 60_000n, "LoanAgreements");
    await send(chainNet, w.lender, "LoanAgreements", "disburse", [loan.loanId]);
    await fundAndApprove(chainNet, w.operator, w.buyer, 100_000n, "Receivables");
    payTx = (await send(chainNet, w.buyer, "Receivables", "pay", [receivableId, 100_000n])).transactionHash;

    // A second agreement whose lender is the contract wallet: its owner signs, the wallet approves by ERC-1271.
    const order2 = await createDeliveredOrder(chainNet, { buyer: w.buyer, supplier: w.supplier, amount: 40_000n });
    const r2 = await issueConfirmedReceivable(chainNet, { supplier: w.supplier, buyer: w.buyer, orderId: order2, faceValue: 40_000n });
    const now = await latestTime(chainNet);
    const terms: LoanTerms = {
      borrower: w.supplier.account.address,
      lender: contractWallet,
      currency: deployment.contracts.SettlementToken,
      principal: 20_000n,
      rateBps: 900n,
      start: BigInt(now),
      disburseBy: BigInt(now + 7 * DAY),
      maturity: BigInt(now + 30 * DAY),
      collateral: [r2.receivableId],
      documentHash: sha256Hex(Buffer.from("second agreement")),
      nonce: 7n,
      deadline: BigInt(now + DAY),
    };
    const typed = loanTermsTypedData(deployment.chainId, deployment.contracts.LoanAgreements, terms);
    const sigB = await w.supplier.signTypedData({ account: w.supplier.account, ...typed });
    const sigL = await w.walletOwner.signTypedData({ account: w.walletOwner.account, ...typed });
    const receipt = await send(chainNet, w.supplier, "LoanAgreements", "submitAgreement", [terms, sigB, sigL]);
    walletLoanId = eventsIn(chainNet, receipt, "LoanAgreements", "AgreementRecorded")[0].loanId as bigint;

    await waitIndexed(service, publicClient);
  });

  after(async function () {
    await docs?.stop();
    await service?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (node?.pid) {
      try {
        process.kill(-node.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  });

  describe("lookup", function () {
    it("finds the agreement's PDF dropped in: anchored alone, in a batch and in the agreement, each with block, time, tx and registered anchorer", async function () {
      const res = await fetch(`${base}/api/evidence/file`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array(AGREEMENT_PDF),
      });
      const body = await res.json();
      expect(res.status).to.equal(200);
      expect(body.sha256).to.equal(pdfSha);
      expect(body.anchored).to.equal(true);
      expect(body.anchors.map((a: { via: string }) => a.via).sort()).to.deep.equal(["batch", "notary", "record"]);
      const single = body.anchors.find((a: { via: string }) => a.via === "notary");
      expect(single.contract).to.deep.equal({ name: "EvidenceNotary", address: deployment.contracts.EvidenceNotary.toLowerCase() });
      expect(single.kind).to.equal(4);
      expect(single.anchorer).to.equal(w.lender.account.address.toLowerCase());
      expect(single.participant).to.include({ registered: true, roles: ROLE.LENDER });
      const block = await publicClient.getBlock({ blockNumber: BigInt(single.blockNumber) });
      expect(single.blockHash).to.equal(block.hash);
      expect(single.blockTime).to.equal(Number(block.timestamp));
      expect(single.blockTimeIso).to.equal(new Date(Number(block.timestamp) * 1000).toISOString());
      expect(block.transactions).to.include(single.txHash);
      const batch = body.anchors.find((a: { via: string }) => a.via === "batch");
      expect(batch.anchorer).to.equal(w.operator.account.address.toLowerCase());
      expect(batch.batch.provenOnChain).to.equal(true);
      const record = body.anchors.find((a: { via: string }) => a.via === "record");
      expect(record.reference).to.deep.equal({ type: "loan", id: loan.loanId.toString(), field: "terms.documentHash" });
      expect(body.integrity).to.deep.equal({ agreesWithIndex: true, differences: [] });
      expect(body.summary).to.contain(`block ${batch.blockNumber}`);
    });

    it("answers a clear anchored: false for a hash and a file never anchored", async function () {
      const byHash = await call(base, "GET", `/api/evidence/${"12".repeat(32)}`);
      expect(byHash.status).to.equal(200);
      expect(byHash.body).to.include({ anchored: false, sha256: `0x${"12".repeat(32)}` });
      expect(byHash.body.summary).to.contain("never anchored");
      const byFile = await (
        await fetch(`${base}/api/evidence/file`, {
          method: "POST",
          headers: { "content-type": "application/octet-stream" },
          body: new Uint8Array(Buffer.from("never seen")),
        })
      ).json();
      expect(byFile.anchored).to.equal(false);
    });

    it("shows the agreement's typed data, both signers recovered and matched to the registered parties, and the loan's history", async function () {
      const res = await call(base, "GET", `/api/evidence/agreement/${loan.loanId}`);
      expect(res.status).to.equal(200);
      const a = res.body;
      expect(a.digest).to.equal(loan.digest);
      expect(a.typedData.message.principal).to.equal("60000");
      expect(a.typedData.domain).to.deep.equal({
        name: "LoanAgreements",
        version: "1",
        chainId: 31337,
        verifyingContract: deployment.contracts.LoanAgreements,
      });
      expect(a.signatures).to.deep.equal({ borrower: loan.borrowerSignature, lender: loan.lenderSignature });
      expect(a.signers.borrower).to.include({
        recovered: w.supplier.account.address.toLowerCase(),
        method: "ecdsa",
        valid: true,
        matchesRegistered: true,
      });
      expect(a.signers.lender).to.include({
        recovered: w.lender.account.address.toLowerCase(),
        method: "ecdsa",
        valid: true,
        matchesRegistered: true,
      });
      expect(a.signedByRegisteredParties).to.equal(true);
      expect(a.documentSha256).to.equal(pdfSha);
      expect(a.document.anchored).to.equal(true);
      expect(a.history.map((h: { event: string }) => h.event)).to.include.members(["LoanDisbursed", "LoanRepaid", "LoanClosed"]);
      expect(a.status).to.equal("Repaid");
      expect(a.integrity.agreesWithIndex).to.equal(true);
      const byDigest = await call(base, "GET", `/api/evidence/agreement/${loan.digest}`);
      expect(byDigest.body.loanId).to.equal(loan.loanId.toString());
    });

    it("accepts a contract wallet's signature through ERC-1271 and says so", async function () {
      const res = await call(base, "GET", `/api/evidence/agreement/${walletLoanId}`);
      expect(res.body.signers.lender).to.include({
        expected: contractWallet.toLowerCase(),
        method: "erc1271",
        valid: true,
        matchesRegistered: true,
      });
      expect(res.body.signers.lender.recovered).to.equal(w.walletOwner.account.address.toLowerCase());
      expect(res.body.signers.borrower.method).to.equal("ecdsa");
    });

    it("judges a contract wallet's signature as of the block that recorded it, not by what the wallet says later", async function () {
      const walletAbi = readArtifact("ERC1271Wallet", "mocks").abi;
      const lie = async (value: boolean) => {
        const hash = await w.walletOwner.writeContract({
          address: contractWallet,
          abi: walletAbi,
          functionName: "setLie",
          args: [value],
          account: w.walletOwner.account,
          chain: hardhat,
        });
        await publicClient.waitForTransactionReceipt({ hash });
      };
      await lie(true);
      try {
        const res = await call(base, "GET", `/api/evidence/agreement/${walletLoanId}`);
        expect(res.body.signers.lender).to.include({ method: "erc1271", valid: true });
      } finally {
        await lie(false);
      }
    });

    it("shows a receivable with its order, the debtor's signed acknowledgment, the pledge and the payment", async function () {
      const res = await call(base, "GET", `/api/evidence/receivable/${receivableId}`, { token: auditorToken });
      expect(res.status).to.equal(200);
      const r = res.body;
      expect(r.order).to.include({ id: orderId.toString(), buyer: w.buyer.account.address.toLowerCase() });
      expect(r.acknowledgment).to.include({ by: "signature", method: "ecdsa", valid: true, matchesRegistered: true });
      expect(r.acknowledgment.recovered).to.equal(w.buyer.account.address.toLowerCase());
      expect(r.pledges.map((e: { event: string; args: { loanId: string } }) => [e.event, e.args.loanId])).to.deep.equal([
        ["ReceivablePledged", loan.loanId.toString()],
      ]);
      expect(r.payments).to.have.length(1);
      expect(r.payments[0].args).to.include({ amount: "100000", fullyPaid: true });
      expect(r.payments[0].txHash).to.equal(payTx);
      expect(r.status).to.equal("Paid");
    });

    it("shows an order with its events and receivables, and a transaction with its events and block", async function () {
      const o = await call(base, "GET", `/api/evidence/order/${orderId}`, { token: auditorToken });
      expect(o.body.events.map((e: { event: string }) => e.event)).to.deep.equal([
        "OrderCreated",
        "OrderAccepted",
        "OrderShipped",
        "OrderDelivered",
      ]);
      expect(o.body.receivables.map((r: { id: string }) => r.id)).to.deep.equal([receivableId.toString()]);
      expect(o.body.documents.map((d: { role: string }) => d.role)).to.deep.equal(["purchase order", "shipping document"]);
      const tx = await call(base, "GET", `/api/evidence/tx/${payTx}`);
      expect(tx.body.events.map((e: { event: string }) => e.event)).to.include.members(["ReceivablePaid", "LoanRepaid"]);
      expect(tx.body.from).to.equal(w.buyer.account.address.toLowerCase());
      expect(tx.body.sender.roleNames).to.deep.equal(["BUYER"]);
      expect(tx.body.integrity.agreesWithIndex).to.equal(true);
    });

    it("refuses malformed ids with 400 naming the field and answers 404 for unknown ones", async function () {
      expect((await call(base, "GET", "/api/evidence/agreement/abc")).body.error.field).to.equal("id");
      expect((await call(base, "GET", "/api/evidence/tx/0x1234")).body.error.field).to.equal("hash");
      expect((await call(base, "GET", "/api/evidence/bundle/invoice/1")).body.error.field).to.equal("kind");
      expect((await call(base, "GET", "/api/evidence/nothex")).body.error.field).to.equal("sha256");
      expect((await call(base, "GET", "/api/evidence/agreement/999")).status).to.equal(404);
      expect((await call(base, "GET", `/api/evidence/tx/0x${"34".repeat(32)}`)).status).to.equal(404);
      const neverAnchored = await call(base, "GET", `/api/evidence/bundle/document/${"56".repeat(32)}`);
      expect(neverAnchored.status).to.equal(404);
      expect(neverAnchored.body.error.message).to.contain("never anchored");
    });

    it("re-reads the chain at lookup and says where a corrupted index disagrees with it", async function () {
      const state = service!.indexer.state();
      const indexedLoan = state.loans[loan.loanId.toString()];
      const anchor = state.anchors[pdfSha];
      const saved = { status: indexedLoan.status, at: anchor.at };
      try {
        indexedLoan.status = "Defaulted";
        anchor.at = saved.at - 3600;
        const a = await call(base, "GET", `/api/evidence/agreement/${loan.loanId}`);
        expect(a.body.status).to.equal("Repaid");
        expect(a.body.integrity.agreesWithIndex).to.equal(false);
        expect(a.body.integrity.differences).to.include("index status Defaulted, chain status Repaid");
        const h = await call(base, "GET", `/api/evidence/${pdfSha}`);
        expect(h.body.integrity.agreesWithIndex).to.equal(false);
        expect(h.body.integrity.differences.join("\n")).to.contain("differs from the notary's state");
      } finally {
        indexedLoan.status = saved.status;
        anchor.at = saved.at;
      }
    });
  });

  describe("bundle and independent verification", function () {
    const bundles: Record<string, { path: string; json: Record<string, unknown> }> = {};
    let dir: string;
    let pdfPath: string;

    before(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), "scf-bundles-"));
      pdfPath = path.join(dir, "agreement.pdf");
      await writeFile(pdfPath, AGREEMENT_PDF);
      for (const [name, url] of [
        ["agreement", `/api/evidence/bundle/agreement/${loan.loanId}`],
        ["walletAgreement", `/api/evidence/bundle/agreement/${walletLoanId}`],
        ["document", `/api/evidence/bundle/document/${pdfSha}`],
        ["receivable", `/api/evidence/bundle/receivable/${receivableId}`],
        ["order", `/api/evidence/bundle/order/${orderId}`],
      ]) {
        // Agreements and documents are public; order and receivable bundles take a member's session.
        const res = await fetch(
          `${base}${url}`,
          name === "receivable" || name === "order" ? { headers: { authorization: `Bearer ${auditorToken}` } } : {},
        );
        expect(res.status, url).to.equal(200);
        expect(res.headers.get("content-disposition")).to.contain("attachment");
        const json = (await res.json()) as Record<string, unknown>;
        bundles[name] = { path: path.join(dir, `${name}.json`), json };
        await writeFile(bundles[name].path, JSON.stringify(json, null, 2));
      }
      // The court does not need the service: stop it and delete its data directory.
      await docs.stop();
      await service!.close();
      service = undefined;
      await rm(dataDir, { recursive: true, force: true });
      expect(existsSync(dataDir)).to.equal(false);
    });

    after(async function () {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("carries the typed data, signatures, txs, blocks, addresses, chain id, documents with proofs and a summary", function () {
      const b = bundles.agreement.json as {
        chain: { chainId: number };
        contracts: Record<string, string>;
        signatures: { role: string; signature: string; typedData: { message: { principal: string } } }[];
        documents: { sha256: string; anchors: { via: string; proof?: string[] }[] }[];
        events: { event: string; blockHash: string; txHash: string }[];
        summary: string;
      };
      expect(b.chain.chainId).to.equal(31337);
      expect(b.contracts.LoanAgreements).to.equal(deployment.contracts.LoanAgreements.toLowerCase());
      expect(b.signatures.map((s) => s.role)).to.deep.equal(["borrower", "lender"]);
      expect(b.signatures[0].signature).to.equal(loan.borrowerSignature);
      expect(b.signatures[0].typedData.message.principal).to.equal("60000");
      const doc = b.documents.find((d) => d.sha256 === pdfSha)!;
      expect(doc.anchors.map((a) => a.via).sort()).to.deep.equal(["batch", "notary", "record"]);
      expect(doc.anchors.find((a) => a.via === "batch")!.proof).to.have.length.above(1);
      expect(b.events.map((e) => e.event)).to.include.members([
        "AgreementRecorded",
        "ReceivablePledged",
        "LoanDisbursed",
        "LoanRepaid",
        "ParticipantAdmitted",
        "Anchored",
        "BatchAnchored",
      ]);
      expect(b.summary).to.contain(`Loan agreement ${loan.loanId}`).and.to.contain(pdfSha);
    });

    it("verifies a genuine agreement bundle and its PDF with the script against the node, the service's data gone", async function () {
      const { code, stdout } = await verifyScript([bundles.agreement.path, pdfPath, "--rpc", rpcUrl]);
      if (process.env.SHOW_VERDICT) console.log(stdout);
      expect(failLines(stdout), stdout).to.deep.equal([]);
      expect(code, stdout).to.equal(0);
      expect(stdout).to.contain("VERDICT: VERIFIED");
      for (const check of [
        "PASS  chain: id",
        "PASS  chain: genesis block",
        "PASS  signature of the borrower: EIP-712 digest",
        "PASS  signature of the borrower: signer",
        "PASS  signature of the lender: signer",
        "PASS  signature of the lender: registered participant",
        ": Merkle proof on chain",
        ": notary anchor",
        "PASS  file agreement.pdf: sha256",
      ]) {
        expect(stdout, check).to.contain(check);
      }
      expect(stdout.split("\n").filter((l) => /^PASS .*LoanAgreements\.AgreementRecorded: receipt/.test(l))).to.have.length(1);
    });

    async function tampered(mutate: (b: never) => void, source = bundles.agreement.json) {
      const copy = structuredClone(source) as never;
      mutate(copy);
      const file = path.join(dir, `tampered-${Math.random().toString(16).slice(2)}.json`);
      await writeFile(file, JSON.stringify(copy));
      return file;
    }

    const cases: [string, (b: never) => void, RegExp][] = [
      [
        "a signature",
        (b: { signatures: { signature: string }[] }) => {
          const s = b.signatures[0].signature;
          b.signatures[0].signature = `${s.slice(0, 10)}${s[10] === "a" ? "b" : "a"}${s.slice(11)}`;
        },
        /^FAIL {2}signature of the borrower: signer/m,
      ],
      [
        "a swapped signer",
        (b: { signatures: { signer: string }[] }) => {
          b.signatures[0].signer = b.signatures[1].signer;
        },
        /^FAIL {2}signature of the borrower: signer — signature recovers 0x[0-9a-fA-F]{40}, not/m,
      ],
      [
        "a block number",
        (b: { events: { event: string; blockNumber: number }[] }) => {
          b.events.find((e) => e.event === "AgreementRecorded")!.blockNumber -= 1;
        },
        /^FAIL {2}event e\d+ LoanAgreements\.AgreementRecorded: block — block \d+ has hash/m,
      ],
      [
        "an agreement field",
        (b: { signatures: { typedData: { message: { principal: string } } }[] }) => {
          b.signatures[0].typedData.message.principal = "6000000";
        },
        /^FAIL {2}signature of the borrower: EIP-712 digest/m,
      ],
      [
        "another chain",
        (b: { chain: { chainId: number } }) => {
          b.chain.chainId = 1;
        },
        /^FAIL {2}chain: id — the node is chain 31337, but the bundle was made on chain 1/m,
      ],
    ];

    it("fails when one byte of the document changes, naming the file check", async function () {
      const bad = Buffer.from(AGREEMENT_PDF);
      bad[20] ^= 0x01;
      const badPath = path.join(dir, "agreement-tampered.pdf");
      await writeFile(badPath, bad);
      const { code, stdout } = await verifyScript([bundles.agreement.path, badPath, "--rpc", rpcUrl]);
      expect(code).to.equal(1);
      expect(failLines(stdout)).to.deep.equal([
        `FAIL  file agreement-tampered.pdf: sha256 — ${sha256Hex(bad)} is not a document of this bundle`,
      ]);
      expect(stdout).to.contain("VERDICT: NOT VERIFIED (1 of");
    });

    for (const [what, mutate, caught] of cases) {
      it(`fails when ${what} is tampered with, naming the check that caught it`, async function () {
        const file = await tampered(mutate);
        const { code, stdout } = await verifyScript([file, pdfPath, "--rpc", rpcUrl]);
        expect(code, stdout).to.equal(1);
        expect(stdout).to.match(caught);
        expect(stdout).to.contain("VERDICT: NOT VERIFIED");
      });
    }

    it("verifies the ERC-1271 agreement, the document, the receivable and the order bundles against the node", async function () {
      const client = createPublicClient({ transport: http(rpcUrl) }) as PublicClient;
      for (const name of ["walletAgreement", "document", "receivable", "order"]) {
        const verdict = await verifyBundle({
          bundle: JSON.parse(await readFile(bundles[name].path, "utf8")),
          publicClient: client,
          abis: allAbis(),
        });
        expect(
          verdict.checks.filter((c) => !c.ok),
          name,
        ).to.deep.equal([]);
        expect(verdict.ok, name).to.equal(true);
      }
      const wallet = await verifyBundle({ bundle: bundles.walletAgreement.json, publicClient: client, abis: allAbis() });
      expect(wallet.checks.find((c) => c.name === "signature of the lender: signer")!.detail).to.contain("ERC-1271");
      const receivable = await verifyBundle({ bundle: bundles.receivable.json, publicClient: client, abis: allAbis() });
      expect(receivable.checks.map((c) => c.name)).to.include("signature of the debtor: signer");
      const doc = await verifyBundle({
        bundle: bundles.document.json,
        publicClient: client,
        abis: allAbis(),
        files: [{ name: "agreement.pdf", bytes: AGREEMENT_PDF }],
      });
      expect(doc.checks.find((c) => c.name === "file agreement.pdf: sha256")!.ok).to.equal(true);
    });

    describe("the four forgeries the review found (issue 12, finding 1)", function () {
      it("refuses a bundle with every event, signature and document removed: it proves nothing", async function () {
        const file = await tampered((b: Record<string, unknown[]>) => {
          b.events = [];
          b.signatures = [];
          b.documents = [];
          b.participants = [];
        });
        const { code, stdout } = await verifyScript([file, "--rpc", rpcUrl]);
        expect(code, stdout).to.equal(1);
        expect(stdout).to.match(new RegExp(`^FAIL {2}subject: agreement ${loan.loanId} — no LoanAgreements.AgreementRecorded event`, "m"));
        expect(stdout).to.contain("VERDICT: NOT VERIFIED");
        expect(stdout).not.to.contain("What the checks above prove");
        expect(stdout).not.to.contain("principal 60000");
      });

      it("refuses a made-up agreement 99 of 250,000,000, even with the published deployment file, and never prints its story", async function () {
        const genuine = bundles.agreement.json as { chain: unknown; contracts: unknown; agreement: { borrower: string; lender: string } };
        const madeUp = {
          format: "scf-evidence-bundle/1",
          kind: "agreement",
          id: "99",
          generatedAt: new Date().toISOString(),
          chain: genuine.chain,
          contracts: genuine.contracts,
          summary: "Loan agreement 99 between the parties: principal 250000000 minor units, signed and recorded.",
          agreement: {
            loanId: "99",
            digest: `0x${"ab".repeat(32)}`,
            borrower: genuine.agreement.borrower,
            lender: genuine.agreement.lender,
            documentHash: pdfSha,
            recordedIn: "e1",
          },
          events: [],
          signatures: [],
          documents: [],
          participants: [],
        };
        const file = path.join(dir, "made-up.json");
        await writeFile(file, JSON.stringify(madeUp));
        const deploymentFile = path.join(dir, "deployment.json");
        await writeFile(deploymentFile, JSON.stringify(deployment));
        const { code, stdout } = await verifyScript([file, "--rpc", rpcUrl, "--deployment", deploymentFile]);
        expect(code, stdout).to.equal(1);
        expect(stdout).to.contain("PASS  contracts: LoanAgreements is the published address");
        expect(stdout).to.match(/^FAIL {2}subject: agreement 99 — /m);
        expect(stdout).to.match(/^FAIL {2}agreement 99: borrower signed — the borrower's signature is missing from the bundle/m);
        expect(stdout).not.to.contain("250000000");
        expect(stdout).to.contain("VERDICT: NOT VERIFIED");
      });

      it("refuses a document bundle for a document that was never anchored, without any file given", async function () {
        const neverAnchored = sha256Hex(Buffer.from("a document nobody anchored"));
        const fileOnlyRenamed = await tampered((b: { id: string; summary: string }) => {
          b.id = neverAnchored;
          b.summary = `The document with sha256 ${neverAnchored} is anchored on the EvidenceNotary.`;
        }, bundles.document.json);
        const noDocuments = await tampered((b: { documents: unknown[]; id: string }) => {
          b.id = neverAnchored;
          b.documents = [];
        }, bundles.document.json);
        for (const file of [fileOnlyRenamed, noDocuments]) {
          const { code, stdout } = await verifyScript([file, "--rpc", rpcUrl]);
          expect(code, stdout).to.equal(1);
          expect(stdout).to.contain(
            `FAIL  subject: document ${neverAnchored} — the bundle carries no anchor on chain for the document ${neverAnchored}`,
          );
          expect(stdout).to.contain("VERDICT: NOT VERIFIED");
          expect(stdout).not.to.contain("What the checks above prove");
        }
      });

      it("refuses a genuine bundle whose summary alone was edited: principal x100, status Repaid, date 30 days back", async function () {
        const client = createPublicClient({ transport: http(rpcUrl) }) as PublicClient;
        const genuine = bundles.agreement.json as { summary: string; events: { event: string; blockTimeIso: string }[] };
        const recordedIso = genuine.events.find((e) => e.event === "AgreementRecorded")!.blockTimeIso;
        const earlier = new Date(Date.parse(recordedIso) - 30 * DAY * 1000).toISOString();
        const edits: [string, (t: string) => string][] = [
          ["principal x100", (t) => t.replace("principal CNY 600.00 (60000 minor units)", "principal CNY 60,000.00 (6000000 minor units)")],
          ["status", (t) => `${t} Status now: Repaid.`],
          ["date", (t) => t.replace(recordedIso, earlier)],
        ];
        for (const [what, edit] of edits) {
          const bundle = { ...genuine, summary: edit(genuine.summary) };
          expect(bundle.summary, what).not.to.equal(genuine.summary);
          const verdict = await verifyBundle({ bundle, publicClient: client, abis: allAbis() });
          expect(verdict.outcome, what).to.equal("not-verified");
          expect(
            verdict.checks.filter((c) => !c.ok).map((c) => c.name),
            what,
          ).to.deep.equal(["summary: says only what the checked facts say"]);
          expect(verdict.confirmed, what).to.deep.equal([]);
        }
        const file = await tampered((b: { summary: string }) => {
          b.summary = edits[0][1](b.summary);
        });
        const { code, stdout } = await verifyScript([file, "--rpc", rpcUrl]);
        expect(code, stdout).to.equal(1);
        expect(stdout).to.match(
          /^FAIL {2}summary: says only what the checked facts say — the summary says ".*principal CNY 60,000\.00 \(6000000.*" where the checked facts give ".*principal CNY 600\.00 \(60000 minor/m,
        );
        expect(stdout).not.to.contain("What the checks above prove");
      });

      it("prints as confirmed only sentences recomputed from the checked facts of a genuine bundle", async function () {
        const client = createPublicClient({ transport: http(rpcUrl) }) as PublicClient;
        const verdict = await verifyBundle({ bundle: bundles.agreement.json, publicClient: client, abis: allAbis() });
        expect(verdict.outcome).to.equal("verified");
        expect(verdict.confirmed[0])
          .to.contain(`Loan agreement ${loan.loanId} between borrower ${w.supplier.account.address.toLowerCase()}`)
          .and.to.contain("principal CNY 600.00 (60000 minor units)");
        expect(verdict.confirmed.join(" ")).to.contain(`The agreement document has sha256 ${pdfSha}`);
        expect(verdict.confirmed.join(" ")).to.match(/loan disbursed CNY 600\.00 \(60000 minor units\) at .*loan repaid/);
      });
    });

    it("names a party only where the registry's commitment proves the name, and labels uploads as the service's claims", async function () {
      const b = bundles.agreement.json as {
        participants: { address: string; name?: string }[];
        documents: { sha256: string; uploads?: { by: string }[] }[];
      };
      expect(b.participants.find((p) => p.address === w.lender.account.address.toLowerCase())!.name).to.equal(LENDER_NAME);
      expect(b.participants.find((p) => p.address === w.supplier.account.address.toLowerCase())!.name).to.equal(undefined);
      expect(b.documents.find((d) => d.sha256 === pdfSha)!.uploads!.map((u) => u.by)).to.deep.equal([
        w.supplier.account.address.toLowerCase(),
      ]);
      const { code, stdout } = await verifyScript([bundles.agreement.path, "--rpc", rpcUrl]);
      expect(code, stdout).to.equal(0);
      expect(stdout).to.contain(
        `PASS  participant ${w.lender.account.address.toLowerCase()}: name — verified: sha256("scf-name-v1" 0x00 salt “${LENDER_NAME}”) = ${displayNameCommitment(LENDER_SALT, LENDER_NAME)} is the displayNameHash of its admission`,
      );
      expect(stdout).to.contain(`  - Participant ${w.lender.account.address.toLowerCase()} is registered as “${LENDER_NAME}”`);
      const claims = stdout.slice(stdout.indexOf("What the service's own records say (claims"));
      expect(claims).to.contain(
        `document ${pdfSha} (loan agreement): uploaded as agreement by ${w.supplier.account.address.toLowerCase()} at `,
      );

      const renamed = await tampered((x: { participants: { name?: string }[] }) => {
        x.participants.find((p) => p.name)!.name = "Some Other Bank";
      });
      const bad = await verifyScript([renamed, "--rpc", rpcUrl]);
      expect(bad.code, bad.stdout).to.equal(1);
      expect(bad.stdout).to.match(
        /^FAIL {2}participant 0x[0-9a-f]{40}: name — claim, not matched: “Some Other Bank” with salt 0x[0-9a-f]{64} gives 0x[0-9a-f]{64}, but the registry recorded displayNameHash 0x[0-9a-f]{64}/m,
      );
    });

    describe("exit codes and messages (finding 5)", function () {
      it("keeps the whole report and the verdict when piped, past 64 KiB", async function () {
        const file = await tampered((b: { events: { id: string }[] }) => {
          const copies = [];
          for (let i = 0; i < 20; i++) copies.push(...b.events.map((e) => ({ ...e, id: `${e.id}x${i}` })));
          b.events.push(...copies);
        });
        const cmd = `"${process.execPath}" "${TS_NODE_BIN}" --transpile-only "${path.join(REPO_ROOT, "scripts/verify-evidence.ts")}" "${file}" --rpc ${rpcUrl} | cat`;
        const { stdout } = await run("sh", ["-c", cmd]);
        expect(stdout.length).to.be.above(65_536);
        expect(stdout).to.contain("VERDICT: NOT VERIFIED");
        expect(stdout.trimEnd().split("\n").at(-1)).to.match(/^ {2}- summary: says only what the checked facts say/);
      });

      it("exits 2 with a sentence for a usage error, a missing file and a deployment file of the wrong kind", async function () {
        const none = await verifyScript([]);
        expect(none.code).to.equal(2);
        expect(none.stderr).to.contain("Give the evidence bundle to check");
        const missing = await verifyScript([path.join(dir, "no-such-bundle.json"), "--rpc", rpcUrl]);
        expect(missing.code).to.equal(2);
        expect(missing.stderr).to.match(/^Cannot read the bundle ".*no-such-bundle.json": there is no such file\./);
        const wrongKind = await verifyScript([bundles.agreement.path, "--rpc", rpcUrl, "--deployment", bundles.order.path]);
        expect(wrongKind.code).to.equal(2);
        expect(wrongKind.stderr).to.contain("is an evidence bundle, not a deployment file");
        const notDeployment = path.join(dir, "not-deployment.json");
        await writeFile(notDeployment, JSON.stringify({ chainId: 31337, contracts: {} }));
        const malformed = await verifyScript([bundles.agreement.path, "--rpc", rpcUrl, "--deployment", notDeployment]);
        expect(malformed.code).to.equal(2);
        expect(malformed.stderr).to.contain("is not a deployment file");
        const missingDoc = await verifyScript([bundles.agreement.path, path.join(dir, "missing.pdf"), "--rpc", rpcUrl]);
        expect(missingDoc.code).to.equal(2);
        expect(missingDoc.stderr).to.contain("Cannot read the document");
        for (const r of [none, missing, wrongKind, malformed, missingDoc]) expect(r.stderr).not.to.match(/\n\s+at /);
      });

      it("exits 3, could not check, when no node answers at the RPC address", async function () {
        const port = await freePort();
        const { code, stdout } = await verifyScript([bundles.agreement.path, "--rpc", `http://127.0.0.1:${port}`]);
        expect(code, stdout).to.equal(3);
        expect(stdout).to.contain("VERDICT: COULD NOT CHECK");
        expect(stdout).to.match(/^NOT CHECKED {2}chain: id — the node did not answer/m);
      });

      it("shows both genesis hashes, the Merkle step that fails and a missing signature in words", async function () {
        const client = createPublicClient({ transport: http(rpcUrl) }) as PublicClient;
        const genesis = (await publicClient.getBlock({ blockNumber: 0n })).hash;
        const otherGenesis = `0x${"77".repeat(32)}`;
        const b = structuredClone(bundles.agreement.json) as {
          chain: { genesisHash: string };
          signatures: unknown[];
          documents: { sha256: string; anchors: { via: string; proof?: string[] }[] }[];
        };
        b.chain.genesisHash = otherGenesis;
        b.signatures.shift();
        const batch = b.documents.find((d) => d.sha256 === pdfSha)!.anchors.find((a) => a.via === "batch")!;
        batch.proof![0] = `0x${"00".repeat(31)}01`;
        const verdict = await verifyBundle({ bundle: b, publicClient: client, abis: allAbis() });
        const failed = Object.fromEntries(verdict.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
        expect(failed["chain: genesis block"]).to.contain(genesis).and.to.contain(otherGenesis);
        const merkle = Object.entries(failed).find(([name]) => name.endsWith(": Merkle proof"))!;
        expect(merkle[1]).to.match(
          /step 1 of \d+ with 0x00000000… gives .*the last step should give the anchored root 0x[0-9a-f]{64} but gives 0x[0-9a-f]{64}/,
        );
        expect(failed[`agreement ${loan.loanId}: borrower signed`]).to.contain("the borrower's signature is missing from the bundle");
      });
    });

    it("refuses a bundle that is not one, and a bundle claiming other published contract addresses", async function () {
      const client = createPublicClient({ transport: http(rpcUrl) }) as PublicClient;
      const notABundle = await verifyBundle({ bundle: { hello: "court" }, publicClient: client, abis: allAbis() });
      expect(notABundle.ok).to.equal(false);
      expect(notABundle.checks[0].name).to.equal("bundle: format");
      const pinned = await verifyBundle({
        bundle: bundles.agreement.json,
        publicClient: client,
        abis: allAbis(),
        published: { contracts: { LoanAgreements: "0x000000000000000000000000000000000000dEaD" } },
      });
      expect(pinned.ok).to.equal(false);
      expect(pinned.checks.filter((c) => !c.ok).map((c) => c.name)).to.deep.equal(["contracts: LoanAgreements is the published address"]);
    });
  });
});
