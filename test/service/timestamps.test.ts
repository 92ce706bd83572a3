/**
 * Independent time (issue 12, finding 3) against a real local time-stamping authority (OpenSSL's
 * `openssl ts -reply`, see ./tsa-helpers.ts): the service gets an RFC 3161 token for each anchored
 * batch root and recorded agreement digest, carries them in bundles, and the verifier checks the
 * imprint, the signature, the certificate's chain to the authority the court trusts, and that the
 * block time agrees with the token's time.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createWalletClient, http } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { allAbis, REPO_ROOT, type Deployment } from "../../node-service/src/chain/contracts";
import { ROLE } from "../../node-service/src/chain/eip712";
import { createTxSender } from "../../node-service/src/chain/sender";
import { openDocumentService, type DocumentService } from "../../node-service/src/documents/service";
import { sha256Hex } from "../../node-service/src/domain/hash";
import { tokenFromBase64, tokenToBase64 } from "../../node-service/src/evidence/rfc3161";
import { verifyBundle } from "../../node-service/src/evidence/verify";
import { startService, type RunningService } from "../../node-service/src/server";
import { deployAll } from "../../scripts/lib/deploy";
import { signIn, testConfig, waitIndexed } from "./api-helpers";
import {
  admit,
  createDeliveredOrder,
  issueConfirmedReceivable,
  signAndSubmitAgreement,
  startHardhatNode,
  type HardhatNode,
  type Net,
  type Wallet,
  DEV_MNEMONIC,
  TS_NODE_BIN,
} from "../../scripts/lib/chain-helpers";
import { startLocalTsa, type LocalTsa } from "./tsa-helpers";

function verifyScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TS_NODE_BIN, "--transpile-only", path.join(REPO_ROOT, "scripts/verify-evidence.ts"), ...args], {
      cwd: REPO_ROOT,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

type Bundle = {
  timestamps: { of: string; value: string; event: string; token: string }[];
  timestamping: { authority: string | null; note: string };
};

describe("RFC 3161 timestamps from a real local authority", function () {
  this.timeout(300_000);
  let node: HardhatNode;
  let tsa: LocalTsa;
  let otherTsa: LocalTsa;
  let deployment: Deployment;
  let net: Net;
  let w: Record<"operator" | "supplier" | "buyer" | "lender", Wallet>;
  let dir: string;
  let docs: DocumentService;
  let service: RunningService;
  let loanId: bigint;
  let backdatedLoanId: bigint;
  const note = Buffer.from("Delivery note 11: 20 pallets.\n");
  const bundles: Record<string, Bundle & Record<string, unknown>> = {};
  const files: Record<string, string> = {};

  before(async function () {
    [node, tsa, otherTsa] = await Promise.all([startHardhatNode(), startLocalTsa(), startLocalTsa("Another Authority")]);
    const wallet = (i: number) =>
      createWalletClient({
        chain: hardhat,
        transport: http(node.url),
        account: mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }),
        pollingInterval: 50,
      }) as Wallet;
    w = { operator: wallet(0), supplier: wallet(1), buyer: wallet(2), lender: wallet(3) };
    deployment = await deployAll({ publicClient: node.publicClient, walletClient: w.operator });
    net = { publicClient: node.publicClient, deployment };
    await admit(net, w.operator, [
      { account: w.operator.account.address, roles: ROLE.AUDITOR, name: "notary service" },
      { account: w.supplier.account.address, roles: ROLE.SUPPLIER },
      { account: w.buyer.account.address, roles: ROLE.BUYER },
      { account: w.lender.account.address, roles: ROLE.LENDER },
    ]);
    const orderId = await createDeliveredOrder(net, { buyer: w.buyer, supplier: w.supplier, amount: 90_000n });
    const { receivableId } = await issueConfirmedReceivable(net, {
      supplier: w.supplier,
      buyer: w.buyer,
      orderId,
      faceValue: 90_000n,
      signedAck: true,
    });
    ({ loanId } = await signAndSubmitAgreement(net, {
      borrower: w.supplier,
      lender: w.lender,
      principal: 30_000n,
      collateral: [receivableId],
      documentHash: sha256Hex("agreement A"),
    }));

    dir = await mkdtemp(path.join(os.tmpdir(), "scf-timestamps-"));
    await writeFile(path.join(dir, "deployment.json"), JSON.stringify(deployment));
    // A long interval: the test drives the rounds itself with stampPending.
    docs = await openDocumentService({
      dataDir: dir,
      publicClient: node.publicClient,
      deployment,
      sender: createTxSender({ publicClient: node.publicClient, walletClient: w.operator }),
      batchMaxDelayMs: 3_600_000,
    });
    tsa.setDown(true); // until the first test: the round the timestamper runs at start gets nothing
    service = await startService(testConfig(dir, { RPC_URL: node.url, POLL_INTERVAL_MS: 100, TSA_URL: tsa.url }), {
      documents: docs,
      timestampIntervalMs: 3_600_000,
    });
    await docs.start();
    const token = await signIn(service.url, w.supplier as never);
    for (const body of [note, Buffer.from("Delivery note 12.\n")]) {
      const up = await fetch(`${service.url}/api/documents?kind=delivery_note`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
        body: new Uint8Array(body),
      });
      expect(up.status).to.equal(201);
    }
    await docs.batcher!.flush();

    // An agreement recorded by a chain whose clock runs two hours ahead of the authority's.
    await node.publicClient.request({ method: "evm_increaseTime", params: [7200] } as never);
    const order2 = await createDeliveredOrder(net, { buyer: w.buyer, supplier: w.supplier, amount: 50_000n });
    const r2 = await issueConfirmedReceivable(net, { supplier: w.supplier, buyer: w.buyer, orderId: order2, faceValue: 50_000n });
    ({ loanId: backdatedLoanId } = await signAndSubmitAgreement(net, {
      borrower: w.supplier,
      lender: w.lender,
      principal: 10_000n,
      collateral: [r2.receivableId],
      documentHash: sha256Hex("agreement B"),
    }));
    await waitIndexed(service, node.publicClient);
  });

  after(async function () {
    await docs?.stop();
    await service?.close();
    await Promise.all([node?.stop(), tsa?.stop(), otherTsa?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("asks again on the next round when the authority is down, and stamps every batch root and agreement digest once it answers", async function () {
    tsa.setDown(true);
    let failure: unknown;
    await service.timestamper!.stampPending(service.indexer.state()).catch((err: unknown) => (failure = err));
    expect(String(failure)).to.contain("answered HTTP 503");
    const pending = await (await fetch(`${service.url}/api/evidence/bundle/agreement/${loanId}`)).json();
    expect(pending.timestamps).to.deep.equal([]);
    expect(pending.timestamping.note).to.contain("(1 not stamped yet)");

    tsa.setDown(false);
    const before = tsa.answered();
    expect(await service.timestamper!.stampPending(service.indexer.state())).to.equal(3); // one batch root, two agreement digests
    expect(tsa.answered() - before).to.equal(3);
    expect(await service.timestamper!.stampPending(service.indexer.state())).to.equal(0);

    for (const [name, url] of [
      ["agreement", `/api/evidence/bundle/agreement/${loanId}`],
      ["backdated", `/api/evidence/bundle/agreement/${backdatedLoanId}`],
      ["note", `/api/evidence/bundle/document/${sha256Hex(note)}`],
    ]) {
      bundles[name] = await (await fetch(`${service.url}${url}`)).json();
      files[name] = path.join(dir, `${name}.json`);
      await writeFile(files[name], JSON.stringify(bundles[name]));
    }
    expect(bundles.agreement.timestamps.map((t) => t.of)).to.deep.equal(["agreement digest"]);
    expect(bundles.note.timestamps.map((t) => t.of)).to.deep.equal(["batch root"]);
    expect(bundles.agreement.timestamping.authority).to.equal(tsa.url);
  });

  it("verifies the tokens with the CLI: imprint, signature, certificate chained to the trusted authority, time within tolerance", async function () {
    for (const name of ["agreement", "note"]) {
      const { code, stdout } = await verifyScript([files[name], "--rpc", node.url, "--tsa-ca", tsa.caFile]);
      expect(code, stdout).to.equal(0);
      expect(stdout).to.match(
        /^PASS {2}timestamp of the (agreement digest|batch root) 0x[0-9a-f]{8}…: RFC 3161 token — message imprint is SHA-256 of the value; signed by CN=Test Time-Stamping Authority, O=Evidence Tests, a time-stamping certificate; the CMS signature verifies; the certificate chains to the trusted authority given$/m,
      );
      expect(stdout).to.match(/^PASS {2}timestamp of the .*: block time agrees with the token — .*within the 600 s tolerance/m);
      expect(stdout).to.contain(
        "  - The time-stamping authority CN=Test Time-Stamping Authority, O=Evidence Tests (certificate chained to the trusted authority given) attests that the",
      );
    }
  });

  it("flags a block time two hours away from the authority's time", async function () {
    const { code, stdout } = await verifyScript([files.backdated, "--rpc", node.url, "--tsa-ca", tsa.caFile]);
    expect(code, stdout).to.equal(1);
    expect(stdout).to.match(
      /^FAIL {2}timestamp of the agreement digest 0x[0-9a-f]{8}…: block time agrees with the token — token time .*, block time .*: 7\d{3} s earlier, more than the 600 s tolerance/m,
    );
    const relaxed = await verifyScript([files.backdated, "--rpc", node.url, "--tsa-ca", tsa.caFile, "--time-tolerance", "9000"]);
    expect(relaxed.code, relaxed.stdout).to.equal(0);
  });

  it("refuses a token over another value, a token with one byte changed, and an authority the court does not trust", async function () {
    const client = node.publicClient;
    const ca = Buffer.from(tsa.caPem);
    const check = (bundle: unknown, trusted: Uint8Array[] = [ca]) =>
      verifyBundle({ bundle, publicClient: client, abis: allAbis(), trustedTsaCertificates: trusted });
    const failed = async (bundle: unknown, trusted?: Uint8Array[]) =>
      (await check(bundle, trusted)).checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

    const swapped = structuredClone(bundles.agreement);
    swapped.timestamps[0].token = bundles.note.timestamps[0].token;
    expect((await failed(swapped)).join("\n")).to.match(/RFC 3161 token: the token stamps 0x[0-9a-f]{64}, not SHA-256 of/);

    const flipped = structuredClone(bundles.agreement);
    const bytes = tokenFromBase64(flipped.timestamps[0].token);
    bytes[bytes.length - 10] ^= 0x01;
    flipped.timestamps[0].token = tokenToBase64(bytes);
    expect((await failed(flipped)).join("\n")).to.contain("RFC 3161 token: the authority's signature over the token does not verify");

    const other = await failed(bundles.agreement, [Buffer.from(otherTsa.caPem)]);
    expect(other.join("\n")).to.contain("the authority's certificate does not chain to the trusted certificate given");

    const untrusted = await check(bundles.agreement, []);
    expect(untrusted.outcome).to.equal("verified");
    expect(untrusted.checks.find((c) => c.name.endsWith(": RFC 3161 token"))!.detail).to.contain(
      "identity was NOT checked against a trusted certificate",
    );
    expect(untrusted.confirmed.join("\n")).to.contain("(identity not checked against a trusted authority)");
  });

  it("says plainly, without an authority configured, that the times rest on the block producer alone", async function () {
    const plainDir = await mkdtemp(path.join(os.tmpdir(), "scf-no-tsa-"));
    try {
      await writeFile(path.join(plainDir, "deployment.json"), JSON.stringify(deployment));
      const plain = await startService(testConfig(plainDir, { RPC_URL: node.url, POLL_INTERVAL_MS: 100 }));
      try {
        await waitIndexed(plain, node.publicClient);
        const bundle = await (await fetch(`${plain.url}/api/evidence/bundle/agreement/${loanId}`)).json();
        expect(bundle.timestamping).to.deep.equal({
          authority: null,
          note: "No time-stamping authority is configured for this service: the times in this bundle rest on the block producer's clock alone.",
        });
        const verdict = await verifyBundle({ bundle, publicClient: node.publicClient, abis: allAbis() });
        expect(verdict.outcome).to.equal("verified");
        expect(verdict.confirmed.at(-1)).to.equal(
          "This bundle carries no RFC 3161 timestamp: every time above is the block producer's clock alone.",
        );
      } finally {
        await plain.close();
      }
    } finally {
      await rm(plainDir, { recursive: true, force: true });
    }
  });
});
