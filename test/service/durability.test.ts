/**
 * Nothing acknowledged is lost (issue 14), against the real service on the in-process Hardhat network
 * with real files: a full disk (a real tmpfs) answers 507 and recovers without a restart; simultaneous
 * uploads of one file are all recorded; a changed document is never served; corrupt files are named
 * (index.json is rebuilt by itself); a retried application with an Idempotency-Key is created once and
 * a receivable backs one live application; after a crash between anchoring and recording a batch, the
 * documents are anchored once more and no more; a deep reorg rolls an application's steps back; a
 * decision's access-log entries are on disk with its record when it is answered, and a crash before they
 * reach the access log's own file is made good at the next start, once.
 */
import hre from "hardhat";
import { expect } from "chai";
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Hex } from "viem";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";
import { ROLE } from "../../node-service/src/chain/eip712";
import { buildTree, DOCUMENT_BATCH_KIND } from "../../node-service/src/documents/batcher";
import { openDocumentService } from "../../node-service/src/documents/service";
import { createTxSender } from "../../node-service/src/chain/sender";
import { storageHealth } from "../../node-service/src/store/storage-health";
import type { RunningService } from "../../node-service/src/server";
import {
  call,
  DAY,
  deployNetwork,
  removeDir,
  signIn,
  startTestService,
  tempDataDir,
  testConfig,
  waitIndexed,
  type Network,
} from "./api-helpers";
import { isMounted, mountSmallDisk } from "./small-disk";

const pdf = (text: string) => Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);

describe("durability: nothing acknowledged is lost (real service, real files)", function () {
  this.timeout(180_000);
  let net: Network;
  let receivables: string[];
  let service: RunningService | undefined;
  let dataDir: string | undefined;

  before(async function () {
    net = await deployNetwork();
    receivables = [];
    for (let i = 0; i < 4; i++) receivables.push((await net.tradeOnce(400_000n + BigInt(i))).receivableId.toString());
  });

  beforeEach(() => storageHealth.reset());

  afterEach(async () => {
    await service?.close();
    service = undefined;
    if (dataDir) await removeDir(dataDir);
    dataDir = undefined;
    storageHealth.reset();
  });

  const body = (receivableIds: string[], amount = 20_000n) => ({
    amount: amount.toString(),
    termDays: 30,
    lender: net.lender.account.address,
    receivableIds,
    scopes: REQUIRED_SCOPES,
  });

  async function started(dir: string): Promise<string> {
    service = await startTestService(testConfig(dir, { LOG_LEVEL: (process.env.DURABILITY_LOG as "warn") ?? "silent" }));
    await waitIndexed(service, net.publicClient);
    return service.url;
  }

  it("answers 507 on a full disk (a real tmpfs), keeps the failed application out of listings, says so on /healthz, and takes it once space is back", async function () {
    const disk = mountSmallDisk(8 * 1024);
    if (!isMounted(disk)) {
      console.log(`      skipped: ${disk.skipped}`);
      this.skip();
    }
    try {
      await writeFile(path.join(disk.dir, "deployment.json"), JSON.stringify(net.deployment));
      let base = await started(disk.dir);
      const token = await signIn(base, net.supplier);

      disk.fill();
      const refused = await call(base, "POST", "/api/applications", { token, body: body([receivables[0]]) });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(507);
      expect(refused.body.error.code).to.equal("insufficient_storage");
      expect(refused.body.error.message).to.include("ENOSPC");
      const health = await call(base, "GET", "/healthz");
      expect(health.status).to.equal(503);
      expect(health.body.status).to.match(/^storage full: .*applications\.journal could not be written \(ENOSPC\)/);
      expect((await call(base, "GET", "/api/applications", { token })).body.applications).to.deep.equal([]);

      disk.free();
      const accepted = await call(base, "POST", "/api/applications", { token, body: body([receivables[0]]) });
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
      expect((await call(base, "GET", "/healthz")).status).to.equal(200);

      await service!.close();
      base = await started(disk.dir);
      const listed = (await call(base, "GET", "/api/applications", { token: await signIn(base, net.supplier) })).body.applications;
      expect(listed.map((a: { id: string }) => a.id)).to.deep.equal([accepted.body.id]);
      await service!.close();
      service = undefined;
    } finally {
      disk.unmount();
    }
  });

  it("records every one of ten simultaneous uploads of the same new file, and refuses to serve bytes changed on disk", async () => {
    dataDir = await tempDataDir(net.deployment);
    const base = await started(dataDir);
    const parties = [net.supplier, net.supplier2, net.buyer, net.lender, net.lender2];
    const tokens = await Promise.all(parties.map((w) => signIn(base, w)));
    const bytes = pdf(`same file ${Date.now()}`);
    const uploads = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetch(`${base}/api/documents?kind=invoice`, {
          method: "POST",
          headers: { "content-type": "application/octet-stream", authorization: `Bearer ${tokens[i % tokens.length]}` },
          body: new Uint8Array(bytes),
        }).then(async (r) => ({ status: r.status, body: await r.json() })),
      ),
    );
    // One upload created the record (201), the nine others added themselves to it (200).
    expect(uploads.map((u) => u.status).sort()).to.deep.equal([...Array(9).fill(200), 201]);
    const sha = uploads[0].body.sha256 as string;
    for (const token of tokens) {
      const meta = await call(base, "GET", `/api/documents/${sha}`, { token });
      expect(meta.status, JSON.stringify(meta.body)).to.equal(200);
      expect(meta.body.uploads).to.have.length(10);
    }

    const file = path.join(dataDir, "documents", sha.slice(2, 4), sha.slice(2));
    const changed = readFileSync(file);
    changed[changed.length - 3] ^= 0x20;
    writeFileSync(file, changed);
    const download = await call(base, "GET", `/api/documents/${sha}?download=1`, { token: tokens[0] });
    expect(download.status).to.equal(500);
    expect(download.body.error.code).to.equal("document_corrupt");
    expect(download.body.error.message).to.include(sha);
  });

  it("creates one application for retries with the same Idempotency-Key, and refuses a second live application on the same receivable with a 409 naming it", async () => {
    dataDir = await tempDataDir(net.deployment);
    const base = await started(dataDir);
    const token = await signIn(base, net.supplier);
    const headers = { "Idempotency-Key": "order-2026-0042" };
    const tries = await Promise.all(
      Array.from({ length: 20 }, () => call(base, "POST", "/api/applications", { token, headers, body: body([receivables[1]]) })),
    );
    expect(tries.map((t) => t.status)).to.deep.equal(Array(20).fill(201));
    expect(new Set(tries.map((t) => t.body.id)).size).to.equal(1);
    expect(tries.filter((t) => t.headers.get("idempotent-replayed") === "true")).to.have.length(19);
    expect((await call(base, "GET", "/api/applications", { token })).body.applications).to.have.length(1);

    const reused = await call(base, "POST", "/api/applications", { token, headers, body: body([receivables[1]], 30_000n) });
    expect(reused.status).to.equal(409);
    expect(reused.body.error.field).to.equal("Idempotency-Key");
    const badKey = await call(base, "POST", "/api/applications", {
      token,
      headers: { "Idempotency-Key": "é" },
      body: body([receivables[2]]),
    });
    expect(badKey.status).to.equal(400);
    expect(badKey.body.error.field).to.equal("Idempotency-Key");

    const second = await call(base, "POST", "/api/applications", { token, body: body([receivables[2], receivables[1]]) });
    expect(second.status).to.equal(409);
    expect(second.body.error).to.include({ code: "conflict", field: "receivableIds" });
    expect(second.body.error.message).to.include(
      `receivable ${receivables[1]} is already the collateral of live application ${tries[0].body.id}`,
    );
    expect(second.body.error.text).to.deep.equal({
      textCode: "receivable_taken",
      params: { receivableId: receivables[1], applicationId: tries[0].body.id },
    });
    // Once withdrawn, the receivable is free again.
    expect((await call(base, "POST", `/api/applications/${tries[0].body.id}/withdraw`, { token })).status).to.equal(200);
    expect((await call(base, "POST", "/api/applications", { token, body: body([receivables[1]]) })).status).to.equal(201);
  });

  it("names a corrupt file and what to do at start; rebuilds a corrupt index.json by itself; removes leftover temp files", async () => {
    dataDir = await tempDataDir(net.deployment);
    await started(dataDir);
    await service!.close();
    service = undefined;

    writeFileSync(path.join(dataDir, "index.json"), '{"version":1,"identity":');
    await writeFile(path.join(dataDir, ".sessions.json.123.0badc0de.tmp"), "half");
    await started(dataDir);
    expect(readdirSync(dataDir).filter((f) => f.startsWith("index.json.corrupt-"))).to.have.length(1);
    expect(existsSync(path.join(dataDir, ".sessions.json.123.0badc0de.tmp"))).to.equal(false);
    expect(service!.indexer.state().participants[net.supplier.account.address.toLowerCase() as Hex]).to.not.equal(undefined);
    await service!.close();
    service = undefined;

    for (const [file, advice] of [
      ["sessions.json", "delete it"],
      [path.join("applications", "applications.json"), "restore it from a backup"],
      [path.join("documents", "index.json"), "restore it from a backup"],
      ["deployment.json", "deploy again"],
    ]) {
      const full = path.join(dataDir, file);
      await mkdir(path.dirname(full), { recursive: true });
      const before = existsSync(full) ? readFileSync(full) : null;
      writeFileSync(full, "{not json");
      let message = "";
      await startTestService(testConfig(dataDir)).then(
        (s) => s.close(),
        (e: Error) => (message = e.message),
      );
      expect(message, file).to.include(full);
      expect(message, file).to.include(advice);
      if (before) writeFileSync(full, before);
      else writeFileSync(full, file.endsWith("applications.json") ? "[]" : "{}");
    }
  });

  it("after a crash between anchoring a batch and recording it, anchors the pending documents once more and then stops sending", async () => {
    dataDir = await tempDataDir(net.deployment);
    await net
      .send(net.operator, "ParticipantRegistry", "admit", [
        net.operator.account.address,
        ROLE.AUDITOR,
        net.h("kyc:op"),
        net.h("name:op"),
        [],
      ])
      .catch(() => undefined);
    const open = () =>
      openDocumentService({
        dataDir: dataDir!,
        publicClient: net.publicClient,
        deployment: net.deployment,
        sender: createTxSender({ publicClient: net.publicClient, walletClient: net.operator as never }),
        batchMaxCount: 100,
        batchMaxDelayMs: 3_600_000,
      });
    let docs = await open();
    for (const text of ["crash a", "crash b"]) {
      await docs.store.put({
        bytes: pdf(`${text} ${Date.now()}`),
        mime: "application/pdf",
        owner: net.supplier.account.address,
        kind: "invoice",
      });
    }
    const pending = docs.store.pending();
    // The service anchored the batch, then died before recording it.
    await net.send(net.operator, "EvidenceNotary", "anchorBatch", [
      buildTree(pending).root as Hex,
      pending.length,
      DOCUMENT_BATCH_KIND,
      net.h("before the crash"),
    ]);
    await docs.stop();

    docs = await open();
    const nonce = () => net.publicClient.getTransactionCount({ address: net.operator.account.address });
    const before = await nonce();
    const [batch] = await docs.batcher!.flush();
    expect(batch.count).to.equal(2);
    expect(docs.store.pending()).to.deep.equal([]);
    expect(docs.store.get(pending[0])!.batch!.root).to.equal(batch.root);
    expect(await nonce()).to.equal(before + 1);
    // Nothing is pending any more: later flushes (the timer's) send nothing.
    expect(await docs.batcher!.flush()).to.deep.equal([]);
    expect(await nonce()).to.equal(before + 1);
    await docs.stop();
  });

  it("rolls an application's consent step back when a deep reorg removes the consent transaction, and the lender cannot act on it", async () => {
    dataDir = await tempDataDir(net.deployment);
    const base = await started(dataDir);
    const token = await signIn(base, net.supplier);
    const created = await call(base, "POST", "/api/applications", { token, body: body([receivables[3]]) });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    const provider = hre.network.provider;
    const snapshot = await provider.request({ method: "evm_snapshot", params: [] });
    const expires = Number((await net.publicClient.getBlock()).timestamp) + 90 * DAY;
    await net.send(net.supplier, "ConsentRegistry", "grant", [net.lender.account.address, REQUIRED_SCOPES, expires, created.body.purpose]);
    const waitStatus = async (wanted: (s: string) => boolean) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const app = (await call(base, "GET", `/api/applications/${id}`, { token })).body;
        if (wanted(app.status)) return app;
        if (Date.now() > deadline) throw new Error(`application stayed ${app.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const decided = await waitStatus((s) => s !== "submitted");
    expect(decided.timeline.map((t: { step: string }) => t.step)).to.include("consent_granted");
    // evm_mine one by one: hardhat_mine's reserved blocks do not link by parent hash, which the indexer checks.
    const mine = async (n: number) => {
      for (let i = 0; i < n; i++) await provider.request({ method: "evm_mine", params: [] });
    };
    await mine(200); // deeper than the 128-block undo window
    await waitIndexed(service!, net.publicClient, 60_000);

    await provider.request({ method: "evm_revert", params: [snapshot] });
    await mine(300); // a longer chain without the consent
    const rolled = await waitStatus((s) => s === "submitted");
    expect(rolled.timeline.map((t: { step: string }) => t.step)).to.deep.equal(["draft", "submitted"]);
    expect(rolled.rolledBack[0].reason).to.match(/no longer on chain \(reorg\)/);
    expect(rolled.rolledBack[0].steps[0].step).to.equal("consent_granted");
    expect(rolled).to.not.have.property("offer");
    const lenderToken = await signIn(base, net.lender);
    const review = await call(base, "POST", `/api/applications/${id}/review`, {
      token: lenderToken,
      body: { outcome: "approve", reason: "looks fine" },
    });
    expect(review.status).to.equal(409);
  });
  it("stores a decision's reads with its record before answering, and after a crash before they reached the access log writes them there at start, once", async () => {
    dataDir = await tempDataDir(net.deployment);
    let base = await started(dataDir);
    const supplier = net.supplier.account.address.toLowerCase();
    const lender = net.lender.account.address.toLowerCase();
    const debtor = net.buyer.account.address.toLowerCase();
    // A standing consent, so the POST decides at once.
    const expires = Number((await net.publicClient.getBlock()).timestamp) + 90 * DAY;
    await net.send(net.supplier, "ConsentRegistry", "grant", [lender, REQUIRED_SCOPES, expires, net.h("standing consent, durability")]);
    await waitIndexed(service!, net.publicClient);
    const token = await signIn(base, net.supplier);
    const logFile = path.join(dataDir, "access-log.jsonl");
    const journal = path.join(dataDir, "applications", "applications.journal");
    const before = statSync(logFile).size;

    const created = await call(base, "POST", "/api/applications", { token, body: body([receivables[0]]) });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.status).to.not.equal("submitted");
    const id = created.body.id as string;
    // Answered: the record on disk carries the reads (the access log's own file gets them right after).
    const stored = readFileSync(journal, "utf8")
      .split("\n")
      .filter((line) => line.includes(id) && line.includes('"decisionReads"'));
    expect(stored, "the decided record with its reads in the applications journal").to.have.length.of.at.least(1);
    expect(created.body, "the reads are the access log's, not the API's").to.not.have.property("decisionReads");

    const entriesOf = async (url: string, enterprise: string, t: string) =>
      (await call(url, "GET", `/api/enterprises/${enterprise}/access-log?limit=100`, { token: t })).body.items.filter(
        (e: { applicationId?: string; resource: string }) => e.applicationId === id && e.resource.startsWith("underwriting"),
      );
    const borrowerRead = await entriesOf(base, supplier, token);
    expect(borrowerRead).to.have.length(1);
    expect(borrowerRead[0]).to.include({ reader: lender, basis: "consent" });
    const debtorReads = await entriesOf(base, debtor, await signIn(base, net.buyer));
    expect(debtorReads.map((e: { reader: string }) => e.reader).sort()).to.deep.equal([lender, supplier].sort());
    await service!.close();
    service = undefined;

    // The crash: the record was written, the access log's copy never reached its file.
    expect(statSync(logFile).size).to.be.greaterThan(before);
    truncateSync(logFile, before);
    base = await started(dataDir);
    const t2 = await signIn(base, net.supplier);
    expect(await entriesOf(base, supplier, t2), "written again at start, same id and time").to.deep.equal(borrowerRead);
    const d2 = await entriesOf(base, debtor, await signIn(base, net.buyer));
    expect(d2).to.deep.equal(debtorReads);
    await service!.close();
    service = undefined;

    // Another start with the entries in place writes nothing twice.
    const size = statSync(logFile).size;
    base = await started(dataDir);
    expect(await entriesOf(base, supplier, await signIn(base, net.supplier))).to.deep.equal(borrowerRead);
    expect(statSync(logFile).size).to.equal(size);
  });
});
