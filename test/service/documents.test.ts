/**
 * The document store through the real service: a real Hardhat network, the real indexer, express over
 * HTTP and Sign-In with Ethereum. Uploads (sniffing, size limit), who may read (404, never 403, for
 * everyone else), retention of identity data with a clock the test controls, and Merkle batch anchoring
 * checked on chain.
 */
import { expect } from "chai";
import hre from "hardhat";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { custom, type EIP1193RequestFn, type Hex } from "viem";
import { abiOf } from "../../node-service/src/chain/contracts";
import { ROLE, SCOPE } from "../../node-service/src/chain/eip712";
import { createBatcher, type Batcher } from "../../node-service/src/documents/batcher";
import { createRetentionJob } from "../../node-service/src/documents/retention";
import { createFileDocumentStore, type DocumentStore } from "../../node-service/src/documents/store";
import { sha256Hex } from "../../node-service/src/domain/hash";
import { openDocumentService, type DocumentService } from "../../node-service/src/documents/service";
import { createTxSender } from "../../node-service/src/chain/sender";
import { startService, type RunningService } from "../../node-service/src/server";
import {
  call,
  deployNetwork,
  removeDir,
  signInAll,
  tempDataDir,
  testConfig,
  waitConsentsSeen,
  waitIndexed,
  type Network,
} from "./api-helpers";
import { DAY, DAY_MS } from "../../node-service/src/domain/time";

const MAX_BYTES = 64 * 1024;

const pdf = (text: string) => Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
  "hex",
);
const JPEG = Buffer.concat([Buffer.from("ffd8ffe000104a46494600010100000100010000", "hex"), Buffer.alloc(32), Buffer.from("ffd9", "hex")]);

describe("document store", function () {
  let net: Network;
  let dataDir: string;
  let service: RunningService;
  let base: string;
  let store: DocumentStore;
  let batcher: Batcher;
  let docs: DocumentService;
  let clock: number;
  let tokens: Record<"operator" | "supplier" | "buyer" | "lender" | "lender2" | "auditor" | "outsider" | "supplier2", string>;
  let orderId: bigint;

  async function upload(bytes: Uint8Array, query: string, token?: string, contentType = "application/octet-stream") {
    const res = await fetch(`${base}/api/documents?${query}`, {
      method: "POST",
      headers: { "content-type": contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: new Uint8Array(bytes),
    });
    return { status: res.status, body: await res.json() };
  }

  before(async function () {
    net = await deployNetwork();
    // The service's notary account must be an admitted participant to anchor.
    await net.send(net.operator, "ParticipantRegistry", "admit", [
      net.operator.account.address,
      ROLE.AUDITOR,
      net.h("kyc:op"),
      net.h("name:op"),
      [],
    ]);
    ({ orderId } = await net.tradeOnce(50_000n));
    dataDir = await tempDataDir(net.deployment);
    clock = Date.parse("2026-01-01T00:00:00Z");
    docs = await openDocumentService({
      dataDir,
      publicClient: net.publicClient,
      deployment: net.deployment,
      sender: createTxSender({ publicClient: net.publicClient, walletClient: net.operator as never }),
      now: () => clock,
      maxBytes: MAX_BYTES,
      batchMaxCount: 4,
      batchMaxDelayMs: 3_600_000,
    });
    store = docs.store;
    batcher = docs.batcher!;
    service = await startService(testConfig(dataDir), {
      transport: custom(hre.network.provider as unknown as { request: EIP1193RequestFn }),
      documents: docs,
    });
    base = service.url;
    await waitIndexed(service, net.publicClient);
    tokens = await signInAll(base, net, ["operator", "supplier", "supplier2", "buyer", "lender", "lender2", "auditor", "outsider"]);
  });

  after(async function () {
    await docs?.stop();
    await service?.close();
    if (dataDir) await removeDir(dataDir);
  });

  describe("upload", function () {
    it("stores a PDF content-addressed by sha256, byte for byte, with its kind, owner and link", async function () {
      const bytes = pdf("purchase order 1");
      const res = await upload(bytes, `kind=purchase_order&linkType=order&linkId=${orderId}`, tokens.supplier);
      expect(res.status).to.equal(201);
      const sha = sha256Hex(bytes);
      expect(res.body).to.include({ sha256: sha, size: bytes.length, mime: "application/pdf", created: true });
      expect(res.body.uploads[0]).to.include({ owner: net.supplier.account.address.toLowerCase(), kind: "purchase_order" });
      expect(res.body.uploads[0].link).to.deep.equal({ type: "order", id: orderId.toString() });
      const file = path.join(dataDir, "documents", sha.slice(2, 4), sha.slice(2));
      expect(readFileSync(file).equals(bytes)).to.equal(true);
      const again = await upload(bytes, "kind=purchase_order", tokens.supplier);
      expect(again.status).to.equal(200);
      expect(again.body.created).to.equal(false);
    });

    it("decides the type from the bytes, not from the Content-Type the client claims", async function () {
      const png = await upload(PNG, "kind=other", tokens.supplier, "application/pdf");
      expect(png.status).to.equal(201);
      expect(png.body.mime).to.equal("image/png");
      const jpeg = await upload(JPEG, "kind=other", tokens.supplier);
      expect(jpeg.body.mime).to.equal("image/jpeg");
      const text = await upload(
        Buffer.from("Delivery note: 12 pallets, received in good order.\n"),
        "kind=delivery_note",
        tokens.supplier,
        "image/png",
      );
      expect(text.body.mime).to.equal("text/plain");
      const json = await upload(Buffer.from(JSON.stringify({ invoice: "INV-7", amount: "1200" })), "kind=invoice", tokens.supplier);
      expect(json.body.mime).to.equal("application/json");
    });

    it("refuses a GIF, a ZIP archive, an executable, invalid UTF-8 and an empty file with 415 naming what it found", async function () {
      const cases: [Buffer, RegExp][] = [
        [
          Buffer.concat([
            Buffer.from("GIF89a"),
            Buffer.from("0100010080000000000000ffffff21f90401000000002c00000000010001000002024401003b", "hex"),
          ]),
          /image\/gif/,
        ],
        [Buffer.concat([Buffer.from("504b0304140000000800", "hex"), Buffer.alloc(40, 1)]), /application\/zip/],
        [Buffer.concat([Buffer.from("7f454c46020101000000000000000000", "hex"), Buffer.alloc(48, 0)]), /application\/x-elf/],
        [Buffer.from([0x48, 0x69, 0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe]), /unrecognised binary/],
        [Buffer.from("text with a NUL \u0000 byte"), /control characters/],
        [Buffer.alloc(0), /empty/],
      ];
      for (const [bytes, message] of cases) {
        const res = await upload(bytes, "kind=invoice", tokens.supplier);
        expect(res.status, String(message)).to.equal(415);
        expect(res.body.error.code).to.equal("unsupported_media_type");
        expect(res.body.error.field).to.equal("file");
        expect(res.body.error.message).to.match(message);
      }
    });

    it("accepts a file at the size limit and refuses one byte more with 413", async function () {
      const head = Buffer.from("%PDF-1.4\n");
      const atLimit = Buffer.concat([head, Buffer.alloc(MAX_BYTES - head.length, 0x20)]);
      expect((await upload(atLimit, "kind=invoice", tokens.supplier)).status).to.equal(201);
      const over = Buffer.concat([atLimit, Buffer.from(" ")]);
      const res = await upload(over, "kind=invoice", tokens.supplier);
      expect(res.status).to.equal(413);
      expect(res.body.error.code).to.equal("payload_too_large");
      expect(res.body.error.message).to.contain(String(MAX_BYTES));
    });

    it("refuses uploads without a session, from a non-participant, with an unknown kind, or linked to someone else's order", async function () {
      const bytes = pdf("refusals");
      expect((await upload(bytes, "kind=invoice")).status).to.equal(401);
      const outsider = await upload(bytes, "kind=invoice", tokens.outsider);
      expect(outsider.status).to.equal(403);
      const badKind = await upload(bytes, "kind=selfie", tokens.supplier);
      expect(badKind.status).to.equal(400);
      expect(badKind.body.error.field).to.equal("kind");
      const notParty = await upload(bytes, `kind=invoice&linkType=order&linkId=${orderId}`, tokens.supplier2);
      expect(notParty.status).to.equal(403);
      expect(notParty.body.error.message).to.contain(`order ${orderId}`);
      const unknown = await upload(bytes, "kind=invoice&linkType=order&linkId=999", tokens.supplier);
      expect(unknown.status).to.equal(400);
      expect(unknown.body.error.field).to.equal("linkId");
      const halfLink = await upload(bytes, "kind=invoice&linkType=order", tokens.supplier);
      expect(halfLink.body.error.field).to.equal("linkId");
      expect(store.get(sha256Hex(bytes))).to.equal(undefined);
    });
  });

  describe("access", function () {
    const bytes = pdf("shipping document for the access tests");
    const sha = sha256Hex(bytes);
    const read = (token?: string, q = "") => call(base, "GET", `/api/documents/${sha}${q}`, { token });

    before(async function () {
      expect((await upload(bytes, `kind=shipping_document&linkType=order&linkId=${orderId}`, tokens.supplier)).status).to.equal(201);
    });

    it("lets the owner download the exact bytes with the sniffed type", async function () {
      const res = await fetch(`${base}/api/documents/${sha}?download=1`, { headers: { authorization: `Bearer ${tokens.supplier}` } });
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.equal("application/pdf");
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).to.equal(true);
    });

    it("lets the other party of the linked order and an auditor read it", async function () {
      expect((await read(tokens.buyer)).status).to.equal(200);
      const auditor = await read(tokens.auditor, "?download=1");
      expect(auditor.status).to.equal(200);
    });

    it("answers 404, exactly as for a missing file, to an outsider, another supplier and a lender without consent", async function () {
      const missing = await call(base, "GET", `/api/documents/${"ab".repeat(32)}`, { token: tokens.outsider });
      expect(missing.status).to.equal(404);
      for (const who of ["outsider", "supplier2", "lender"] as const) {
        const res = await read(tokens[who], "?download=1");
        expect(res.status, who).to.equal(404);
        expect(res.body.error.code).to.equal(missing.body.error.code);
        expect(res.body.error.message.replace(sha, "")).to.equal(missing.body.error.message.replace(`0x${"ab".repeat(32)}`, ""));
      }
      expect((await read()).status).to.equal(401);
    });

    it("lets a lender read only while the supplier's consent in force covers the documents scope", async function () {
      const expires = (await net.latestTime()) + 30 * DAY;
      await net.send(net.supplier, "ConsentRegistry", "grant", [
        net.lender2.account.address,
        SCOPE.metrics | SCOPE.receivables,
        expires,
        net.h("p1"),
      ]);
      await waitConsentsSeen(service, net.publicClient);
      expect((await read(tokens.lender2)).status).to.equal(404);
      await net.send(net.supplier, "ConsentRegistry", "grant", [net.lender2.account.address, SCOPE.documents, expires, net.h("p2")]);
      await waitConsentsSeen(service, net.publicClient);
      expect((await read(tokens.lender2)).status).to.equal(200);
      expect((await read(tokens.lender)).status).to.equal(404);
      await net.send(net.supplier, "ConsentRegistry", "revoke", [net.lender2.account.address]);
      await waitConsentsSeen(service, net.publicClient);
      expect((await read(tokens.lender2)).status).to.equal(404);
    });

    it("validates the sha256 in the path", async function () {
      const res = await call(base, "GET", "/api/documents/not-a-hash", { token: tokens.supplier });
      expect(res.status).to.equal(400);
      expect(res.body.error.field).to.equal("sha256");
    });
  });

  describe("batch notarization", function () {
    it("anchors pending documents as one Merkle root once the batch is full, and each proof verifies on chain", async function () {
      await batcher.flush();
      const docs = [0, 1, 2, 3].map((i) => Buffer.from(`Invoice line ${i}: 10 units at 100.00\n`));
      for (const d of docs) await upload(d, "kind=invoice", tokens.supplier);
      // The fourth upload fills the batch (maxCount 4): the batcher anchors without being asked.
      const deadline = Date.now() + 10_000;
      while (docs.some((d) => !store.get(sha256Hex(d))?.batch) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const roots = new Set(docs.map((d) => store.get(sha256Hex(d))!.batch!.root));
      expect(roots.size).to.equal(1);
      for (const d of docs) {
        const { batch } = store.get(sha256Hex(d))!;
        const ok = await net.publicClient.readContract({
          address: net.deployment.contracts.EvidenceNotary,
          abi: abiOf("EvidenceNotary"),
          functionName: "verifyInBatch",
          args: [batch!.root, batch!.anchorer, sha256Hex(d), batch!.proof],
        });
        expect(ok).to.equal(true);
        // A proof for another document does not verify this one.
        const other = await net.publicClient.readContract({
          address: net.deployment.contracts.EvidenceNotary,
          abi: abiOf("EvidenceNotary"),
          functionName: "verifyInBatch",
          args: [batch!.root, batch!.anchorer, sha256Hex(pdf("not in the batch")), batch!.proof],
        });
        expect(other).to.equal(false);
      }
      expect(store.pending()).to.deep.equal([]);
    });

    it("anchors what is waiting when the time limit passes", async function () {
      const timed = createBatcher({
        store,
        sender: createTxSender({ publicClient: net.publicClient, walletClient: net.operator as never }),
        notary: net.deployment.contracts.EvidenceNotary,
        maxCount: 1000,
        maxDelayMs: 100,
      });
      const d = Buffer.from("A lone delivery note waiting for the timer.\n");
      await upload(d, "kind=delivery_note", tokens.supplier);
      timed.start();
      try {
        const deadline = Date.now() + 10_000;
        while (!store.get(sha256Hex(d))?.batch && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      } finally {
        await timed.stop();
      }
      expect(store.get(sha256Hex(d))!.batch!.count).to.equal(1);
    });

    it("gives a document in a batch the same evidence lookup as one anchored alone, with its proof", async function () {
      const d = Buffer.from("Invoice line 0: 10 units at 100.00\n");
      const res = await call(base, "GET", `/api/evidence/${sha256Hex(d)}`);
      expect(res.status).to.equal(200);
      expect(res.body.anchored).to.equal(true);
      const anchor = res.body.anchors.find((a: { via: string }) => a.via === "batch");
      expect(anchor.batch.provenOnChain).to.equal(true);
      expect(anchor.batch.proof).to.deep.equal(store.get(sha256Hex(d))!.batch!.proof);
      expect(anchor.anchorer).to.equal(net.operator.account.address.toLowerCase());
      expect(anchor.participant.roleNames).to.deep.equal(["AUDITOR"]);
      expect(anchor.blockTimeIso).to.equal(new Date(anchor.blockTime * 1000).toISOString());
      expect(res.body.integrity.agreesWithIndex).to.equal(true);
    });

    it("anchors a batch of 256 documents for under 1,000 gas per document", async function () {
      const bigDir = await mkdtemp(path.join(os.tmpdir(), "scf-docs-"));
      try {
        const big = await createFileDocumentStore({ dataDir: bigDir });
        for (let i = 0; i < 256; i++) {
          await big.put({
            bytes: Buffer.from(`document ${i}\n`),
            mime: "text/plain",
            owner: net.supplier.account.address,
            kind: "invoice",
          });
        }
        const b = createBatcher({
          store: big,
          sender: createTxSender({ publicClient: net.publicClient, walletClient: net.operator as never }),
          notary: net.deployment.contracts.EvidenceNotary,
          maxCount: 256,
        });
        const [result] = await b.flush();
        expect(result.count).to.equal(256);
        const perDocument = Number(result.gasUsed) / 256;
        console.log(`      anchorBatch of 256 documents: ${result.gasUsed} gas, ${perDocument.toFixed(1)} gas per document`);
        expect(perDocument).to.be.below(1000);
        for (let i = 0; i < 256; i += 51) {
          const sha = sha256Hex(Buffer.from(`document ${i}\n`));
          const ok = await net.publicClient.readContract({
            address: net.deployment.contracts.EvidenceNotary,
            abi: abiOf("EvidenceNotary"),
            functionName: "verifyInBatch",
            args: [result.root, result.anchorer, sha, big.get(sha)!.batch!.proof],
          });
          expect(ok).to.equal(true);
        }
      } finally {
        await removeDir(bigDir);
      }
    });

    it("cannot anchor from an account that is not an admitted participant", async function () {
      const d = await mkdtemp(path.join(os.tmpdir(), "scf-docs-"));
      try {
        const s = await createFileDocumentStore({ dataDir: d });
        await s.put({ bytes: Buffer.from("x\n"), mime: "text/plain", owner: net.supplier.account.address, kind: "other" });
        const b = createBatcher({
          store: s,
          sender: createTxSender({ publicClient: net.publicClient, walletClient: net.outsider as never }),
          notary: net.deployment.contracts.EvidenceNotary,
        });
        let error: Error | undefined;
        await b.flush().catch((e: Error) => (error = e));
        expect(error?.message).to.contain("EvidenceNotaryNotActiveParticipant");
        expect(s.pending()).to.have.length(1);
      } finally {
        await removeDir(d);
      }
    });
  });

  describe("retention", function () {
    it("purges identity and biometric files after 90 days, at start and on schedule, keeping hash, anchor and a log", async function () {
      const lines: string[] = [];
      const logger = pino({ level: "info" }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
      const idScan = JPEG.subarray(0); // same bytes as above would be a re-upload: make it unique
      const scan = Buffer.concat([idScan.subarray(0, idScan.length - 2), Buffer.from("id-scan"), Buffer.from("ffd9", "hex")]);
      const face = Buffer.concat([PNG, Buffer.from("face")]);
      const invoice = pdf("an invoice kept for ten years");
      const t0 = clock;
      for (const [bytes, kind] of [
        [scan, "kyc_id_scan"],
        [face, "biometric_face"],
        [invoice, "invoice"],
      ] as const) {
        expect((await upload(bytes, `kind=${kind}`, tokens.supplier)).status).to.equal(201);
      }
      await batcher.flush();
      const file = (b: Buffer) => path.join(dataDir, "documents", sha256Hex(b).slice(2, 4), sha256Hex(b).slice(2));

      const job = createRetentionJob({ store, now: () => clock, logger, intervalMs: 50 });
      clock = t0 + 90 * DAY_MS - 1;
      expect(await job.start()).to.deep.equal([]);
      expect(existsSync(file(scan))).to.equal(true);

      // The daily run (here every 50 ms) purges once the period has passed.
      clock = t0 + 90 * DAY_MS;
      const deadline = Date.now() + 5_000;
      while (existsSync(file(face)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await job.stop();
      expect(existsSync(file(scan))).to.equal(false);
      expect(existsSync(file(face))).to.equal(false);
      expect(existsSync(file(invoice))).to.equal(true);
      expect(
        store
          .purges()
          .map((p) => p.sha256)
          .sort(),
      ).to.deep.equal([sha256Hex(scan), sha256Hex(face)].sort());
      const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg.includes("purged"));
      expect(logged.map((l) => l.sha256).sort()).to.deep.equal([sha256Hex(scan), sha256Hex(face)].sort());

      const meta = await call(base, "GET", `/api/documents/${sha256Hex(scan)}`, { token: tokens.supplier });
      expect(meta.body.purged).to.equal(true);
      expect(meta.body.anchor.via).to.equal("batch");
      const download = await call(base, "GET", `/api/documents/${sha256Hex(scan)}?download=1`, { token: tokens.supplier });
      expect(download.status).to.equal(410);
      const evidence = await call(base, "GET", `/api/evidence/${sha256Hex(scan)}`);
      expect(evidence.body.anchored).to.equal(true);
      expect(evidence.body.anchors[0].batch.provenOnChain).to.equal(true);
    });

    it("honours a configured period and restarts it when the file is uploaded again", async function () {
      const d = await mkdtemp(path.join(os.tmpdir(), "scf-docs-"));
      try {
        let now = Date.parse("2026-03-01T00:00:00Z");
        const s = await createFileDocumentStore({ dataDir: d, now: () => now });
        const bytes = Buffer.concat([PNG, Buffer.from("selfie")]);
        const owner = net.supplier.account.address;
        await s.put({ bytes, mime: "image/png", owner, kind: "biometric_face" });
        const job = createRetentionJob({ store: s, now: () => now, retentionDays: 30 });
        now += 20 * DAY_MS;
        await s.put({ bytes, mime: "image/png", owner, kind: "biometric_face" });
        now += 29 * DAY_MS;
        expect(await job.runOnce()).to.deep.equal([]);
        now += DAY_MS;
        const purged = await job.runOnce();
        expect(purged.map((p) => p.sha256)).to.deep.equal([sha256Hex(bytes)]);
        expect(await s.readContent(sha256Hex(bytes) as Hex)).to.equal(null);
        expect(s.get(sha256Hex(bytes))!.purgedAt).to.equal(now);
        // Reopening the store from disk keeps the purge.
        const reopened = await createFileDocumentStore({ dataDir: d });
        expect(reopened.get(sha256Hex(bytes))!.purgedAt).to.equal(now);
        expect(reopened.purges()).to.have.length(1);
      } finally {
        await removeDir(d);
      }
    });
  });
});
