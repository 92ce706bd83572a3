/**
 * One conformance suite for both stores: the same tests run against the lowdb files of DATA_DIR and
 * against PostgreSQL (DATABASE_URL, or the embedded server of scripts/lib/test-postgres.ts). Each store is checked for
 * what it promises (what a write resolved for is there after a reopen, reads in the documented order)
 * and the chain index for the indexer's promises (reorg rollback and restart end equal to a fresh index
 * of the final chain). Then the service itself runs on both: the metric values are exactly the same.
 */
import { expect } from "chai";
import hre from "hardhat";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import type { Hex } from "viem";
import { createIndexer, type Indexer } from "../../node-service/src/indexer/indexer";
import { createLowdbIndexStore, STORE_VERSION, type IndexStore } from "../../node-service/src/store/index-store";
import { encodeIndexState } from "../../node-service/src/store/state-codec";
import { openDatabase, type Database } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexStore } from "../../node-service/src/store/postgres/index-store";
import { createIndexLeadership, LOCK_INDEXER } from "../../node-service/src/store/postgres/leader";
import { PostgresRecordStore } from "../../node-service/src/store/postgres/record-store";
import { createPostgresDocumentStore } from "../../node-service/src/documents/postgres-store";
import { JournalStore, type RecordStore } from "../../node-service/src/applications/journal-store";
import { createFileDocumentStore, type DocumentStore } from "../../node-service/src/documents/store";
import { openPostgresSessionStore, openSessionStore, type SessionStore } from "../../node-service/src/auth/sessions";
import { openAccessLog, openPostgresAccessLog, type AccessLog } from "../../node-service/src/api/access-log";
import type { Address, IndexState } from "../../node-service/src/domain/entities";
import { sha256Hex } from "../../node-service/src/domain/hash";
import { computeMetricsUncached } from "../../node-service/src/metrics/compute";
import { deployContracts, generateHistory, type Net } from "../../scripts/lib/chain-helpers";
import { freshDatabase } from "../../scripts/lib/test-postgres";
import { DELIVERY_HEADER, NotificationService } from "../../node-service/src/notifications/service";
import type { ApplicationRecord } from "../../node-service/src/applications/types";
import { creationGuard } from "../../node-service/src/applications/service";
import { emptyIndexState } from "../../node-service/src/domain/entities";
import { webhookReceiver } from "./webhook-receiver";
import { admittedNetwork, hardhatNetwork, until } from "./service-processes";
import { call, deployNetwork, removeDir, signIn, startTestService, tempDataDir, testConfig, waitIndexed } from "./api-helpers";

/** One store backend, opened over one place (a data directory, a database) that outlives its instances. */
interface Backend {
  name: string;
  /** Several processes share it (PostgreSQL); the lowdb files belong to one process. */
  shared: boolean;
  indexStore(): Promise<IndexStore>;
  records<T extends { id: string }>(name: string): Promise<RecordStore<T>>;
  /** `dataDir`: the data directory of the process opening it (default: the backend's one). */
  documents(now?: () => number, dataDir?: string): Promise<DocumentStore>;
  sessions(secret?: string): Promise<SessionStore>;
  accessLog(): Promise<AccessLog>;
  /** Where a service keeps its data: the data directory, and the database if any. */
  place(): Promise<{ dataDir: string; db?: Database; databaseUrl?: string }>;
  close(): Promise<void>;
}

async function lowdbBackend(): Promise<Backend> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "conformance-lowdb-"));
  return {
    name: "lowdb",
    shared: false,
    indexStore: () => createLowdbIndexStore(dir),
    records: (name) => JournalStore.open(dir, name),
    documents: (now, dataDir) => createFileDocumentStore({ dataDir: dataDir ?? dir, now }),
    sessions: (secret) => openSessionStore({ dataDir: dir, secret }),
    accessLog: () => openAccessLog({ dataDir: dir }),
    place: async () => ({ dataDir: dir }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function postgresBackend(): Promise<Backend> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "conformance-pg-"));
  const url = await freshDatabase();
  const dbs: Database[] = [];
  // Each instance gets its own pool, as a restarted process would.
  const open = async () => {
    const db = await openDatabase(url, { max: 4 });
    dbs.push(db);
    return db;
  };
  return {
    name: "postgres",
    shared: true,
    indexStore: async () => createPostgresIndexStore(await open()),
    records: async (name) => PostgresRecordStore.open(await open(), name),
    documents: async (now, dataDir) => createPostgresDocumentStore({ db: await open(), dataDir: dataDir ?? dir, now }),
    sessions: async (secret) => openPostgresSessionStore({ db: await open(), secret }),
    accessLog: async () => openPostgresAccessLog({ db: await open() }),
    place: async () => ({ dataDir: dir, db: await open(), databaseUrl: url }),
    async close() {
      for (const db of dbs.splice(0)) await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const BACKENDS: [string, () => Promise<Backend>][] = [
  ["lowdb", lowdbBackend],
  ["postgres", postgresBackend],
];

/** The state as its stored JSON form, so two states compare field by field, bigint amounts included. */
function canonical(state: IndexState): unknown {
  return JSON.parse(JSON.stringify(encodeIndexState(state)));
}

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  return (await hre.network.provider.request({ method, params })) as T;
}

const A = "0x00000000000000000000000000000000000000a1" as Address;
/** A notary batch of `hashes` under `root`, anchored by A in block `blockNumber` (made-up transaction). */
const batchOf = (root: Hex, hashes: Hex[], blockNumber: number) => ({
  root,
  hashes,
  count: hashes.length,
  txHash: `0x${"01".repeat(32)}` as Hex,
  blockNumber,
  blockHash: `0x${"02".repeat(32)}` as Hex,
  logIndex: 0,
  at: 1700000000 + blockNumber,
  anchorer: A,
});
const B = "0x00000000000000000000000000000000000000b2" as Address;

for (const [label, makeBackend] of BACKENDS) {
  describe(`store conformance: ${label}`, function () {
    this.timeout(180_000);
    let backend: Backend;
    const indexers: Indexer[] = [];
    beforeEach(async () => {
      backend = await makeBackend();
    });
    afterEach(async () => {
      for (const i of indexers.splice(0)) await i.stop();
      await backend.close();
    });

    describe("chain index", () => {
      const setup = async () => admittedNetwork(await hardhatNetwork());
      async function indexerOn(net: Net, store: IndexStore, opts: { maxBlockRange?: number; commitIntervalMs?: number } = {}) {
        const indexer = await createIndexer({
          publicClient: net.publicClient,
          deployment: net.deployment,
          dataDir: "/nonexistent-unused",
          store,
          commitIntervalMs: opts.commitIntervalMs,
          maxWriteShare: opts.commitIntervalMs === 0 ? 1 : undefined,
          maxBlockRange: opts.maxBlockRange,
          logger: pino({ level: "silent" }),
        });
        indexers.push(indexer);
        return indexer;
      }
      /** What a fresh in-memory index (lowdb in a temp dir) of the chain holds. */
      async function freshState(net: Net): Promise<unknown> {
        const dir = await mkdtemp(path.join(os.tmpdir(), "conformance-fresh-"));
        try {
          const fresh = await indexerOn(net, await createLowdbIndexStore(dir));
          await fresh.syncOnce();
          return canonical(fresh.state());
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }

      /**
       * A loaded index holds each event's reference once (domain/intern.ts), as the indexer does when it
       * reduces the events itself: the record an event changed and `eventsByTx` share the object.
       */
      function expectOneCopyOfEachEventRef(state: IndexState) {
        const byEvent = new Map<string, object>();
        for (const refs of Object.values(state.eventsByTx)) for (const r of refs) byEvent.set(`${r.blockHash}:${r.logIndex}`, r);
        let shared = 0;
        for (const coll of ["participants", "orders", "receivables", "loans"] as const)
          for (const record of Object.values(state[coll]))
            for (const r of record.events ?? []) {
              expect(byEvent.get(`${r.blockHash}:${r.logIndex}`), `${coll} event ${r.event}`).to.equal(r);
              shared++;
            }
        expect(shared).to.be.above(20);
      }

      it("saves what it indexed (commit by commit) and a reopened store loads exactly that state", async () => {
        const { net, parties } = await setup();
        await generateHistory(net, { ...parties, orders: 5, anchors: 2, tag: "a" });
        // Small ranges and a commit after each: many incremental saves.
        const indexer = await indexerOn(net, await backend.indexStore(), { maxBlockRange: 3, commitIntervalMs: 0 });
        await indexer.syncOnce();
        expect(indexer.stats().writes).to.be.above(3);
        const expected = await freshState(net);
        expect(canonical(indexer.state())).to.deep.equal(expected);

        const saved = await (await backend.indexStore()).load();
        expect(saved).to.not.equal(null);
        expect(canonical(saved!.state)).to.deep.equal(expected);
        expect(saved!.checkpoint).to.deep.equal(indexer.checkpoint());

        // More history, then a restart from the store: it continues from the checkpoint.
        await indexer.stop();
        await generateHistory(net, { ...parties, orders: 3, tag: "b" });
        const reopened = await indexerOn(net, await backend.indexStore(), { maxBlockRange: 5, commitIntervalMs: 0 });
        expect(reopened.checkpoint()).to.deep.equal(saved!.checkpoint);
        expect(canonical(reopened.state())).to.deep.equal(expected);
        expectOneCopyOfEachEventRef(reopened.state());
        await reopened.syncOnce();
        const expected2 = await freshState(net);
        expect(canonical(reopened.state())).to.deep.equal(expected2);
        expect(canonical((await (await backend.indexStore()).load())!.state)).to.deep.equal(expected2);
      });

      it("rolls back a reorg (also one that happened while stopped, from the saved undo rows) to the state of a fresh index", async () => {
        const { net, parties } = await setup();
        await generateHistory(net, { ...parties, orders: 2, tag: "common" });
        const snapshot = await rpc<string>("evm_snapshot");
        await generateHistory(net, { ...parties, orders: 4, anchors: 2, tag: "old" });
        const first = await indexerOn(net, await backend.indexStore());
        await first.syncOnce();
        const oldState = canonical(first.state());
        await first.stop();

        expect(await rpc<boolean>("evm_revert", [snapshot])).to.equal(true);
        await generateHistory(net, { ...parties, orders: 6, anchors: 3, tag: "new" });
        const reopened = await indexerOn(net, await backend.indexStore());
        const reorgs: { forkBlock: number }[] = [];
        reopened.on("reorg", (r) => reorgs.push(r));
        await reopened.syncOnce();
        expect(reorgs).to.have.length(1);
        expect(reorgs[0].forkBlock).to.be.above(net.deployment.startBlock); // rolled back with the undo rows, not rebuilt
        const expected = await freshState(net);
        expect(expected).to.not.deep.equal(oldState);
        expect(canonical(reopened.state())).to.deep.equal(expected);
        expect(canonical((await (await backend.indexStore()).load())!.state)).to.deep.equal(expected);

        // A second reorg while following: rolled back in memory, written as one commit.
        const snap2 = await rpc<string>("evm_snapshot");
        await generateHistory(net, { ...parties, orders: 2, tag: "x" });
        await reopened.syncOnce();
        await rpc("evm_revert", [snap2]);
        await generateHistory(net, { ...parties, orders: 3, tag: "y" });
        await reopened.syncOnce();
        const expected3 = await freshState(net);
        expect(canonical(reopened.state())).to.deep.equal(expected3);
        expect(canonical((await (await backend.indexStore()).load())!.state)).to.deep.equal(expected3);
      });

      it("on PostgreSQL: each commit is written while the next range is reduced, stores exactly its checkpoint's index, and one that fails is written with the next", async function () {
        if (backend.name !== "postgres") return this.skip();
        const { net, parties } = await setup();
        // 20 orders between one supplier and one buyer: their order lists pass 16 items (from there on
        // appended in place) while commits are being written.
        await generateHistory(net, { ...parties, orders: 20, anchors: 2, tag: "w" });
        const inner = await backend.indexStore();
        expect(inner.snapshotOnSave).to.equal(true);
        const reader = await backend.indexStore();
        const under: { indexer?: Indexer } = {};
        /** Writes during which the indexer reduced more, and what each write left stored (read back at once). */
        let overlapped = 0;
        let failNext = 0;
        const stored: { checkpoint: number; state: IndexState }[] = [];
        // Each write is held (its fence waits, inside its transaction) until the indexer has reduced past
        // what the write was given, at most 500 ms: the state changes under every write but the last.
        const store: IndexStore = {
          ...inner,
          async save(doc, changes, fence) {
            const given = doc.state.eventCount;
            const w = await inner.save(doc, changes, async (tx) => {
              const advanced = await until(
                "the indexer to reduce past the write",
                500,
                async () => (under.indexer?.state().eventCount ?? 0) > given,
              ).then(
                () => true,
                () => false,
              );
              if (advanced) overlapped += 1;
              if (failNext > 0 && --failNext === 0) throw new Error("write refused (injected)");
              await fence?.(tx);
            });
            const saved = (await reader.load())!;
            stored.push({ checkpoint: saved.checkpoint?.blockNumber ?? 0, state: saved.state });
            return w;
          },
        };
        const indexer = await indexerOn(net, store, { maxBlockRange: 3, commitIntervalMs: 0 });
        under.indexer = indexer;
        failNext = 3; // the third write from here fails: syncOnce reports it, and the next commit writes its changes
        let failure: unknown;
        await indexer.syncOnce().catch((err: unknown) => (failure = err));
        expect(String(failure)).to.contain("write refused (injected)");
        await indexer.syncOnce();
        expect(overlapped, "writes during which the indexer went on reducing").to.be.at.least(3);

        const expected = await freshState(net);
        expect(canonical(indexer.state())).to.deep.equal(expected);
        const saved = (await reader.load())!;
        expect(canonical(saved.state)).to.deep.equal(expected);
        expect(saved.checkpoint).to.deep.equal(indexer.checkpoint());
        // Every write stored its checkpoint's index and nothing the indexer reduced after it: each
        // transaction's events up to that block, and no record changed by a later event.
        const final = indexer.state();
        expect(stored.length).to.be.above(5);
        expect(Math.max(...Object.values(final.ordersByParty).map((ids) => ids.length))).to.be.at.least(20);
        for (const { checkpoint, state } of stored) {
          const upTo: Record<string, unknown> = {};
          for (const [tx, refs] of Object.entries(final.eventsByTx)) {
            const kept = refs.filter((r) => r.blockNumber <= checkpoint);
            if (kept.length > 0) upTo[tx] = kept;
          }
          expect(state.eventsByTx, `events by transaction stored at block ${checkpoint}`).to.deep.equal(upTo);
          for (const coll of ["orders", "receivables", "loans"] as const)
            for (const record of Object.values(state[coll]))
              for (const r of record.events) expect(r.blockNumber, `${coll} event stored at block ${checkpoint}`).to.be.at.most(checkpoint);
          for (const key of Object.keys(state.transfers)) expect(Number(key.split(":")[0])).to.be.at.most(checkpoint);
          for (const [party, ids] of Object.entries(final.ordersByParty)) {
            const created = ids.filter((id) => final.orders[id].events[0].blockNumber <= checkpoint);
            expect(state.ordersByParty[party as Address] ?? [], `orders of ${party} stored at block ${checkpoint}`).to.deep.equal(created);
          }
        }
      });

      it("commits as often as the store asks (its commitMaxEvents) when the indexer is given no number", async () => {
        const { net, parties } = await setup();
        await generateHistory(net, { ...parties, orders: 4, tag: "c" });
        const store = await backend.indexStore();
        // The PostgreSQL store's commit costs what changed, so it asks for small commits; lowdb leaves the indexer's default.
        expect(store.commitMaxEvents).to.equal(backend.name === "postgres" ? 10_000 : undefined);
        // No commit by time: only the event count (and the end of the sync) can make one.
        const opts = { maxBlockRange: 2, commitIntervalMs: 3_600_000 };
        // On PostgreSQL through the index writer's lock, as the service gives it to the indexer.
        const { databaseUrl } = await backend.place();
        const leadership = databaseUrl ? createIndexLeadership({ url: databaseUrl, inner: { ...store, commitMaxEvents: 5 } }) : undefined;
        const asking = await indexerOn(net, leadership?.store ?? { ...store, commitMaxEvents: 5 }, opts);
        await asking.syncOnce();
        // The writer, its rewrite done, hands its commits to the store at once: they overlap the next range.
        if (leadership) expect(leadership.store.snapshotOnSave).to.equal(true);
        // Its commits cost what changed: at the head the indexer expects a small one to cost little (indexer.ts commitInterval).
        expect(leadership?.store.costFollowsChanges ?? store.costFollowsChanges ?? false).to.equal(backend.name === "postgres");
        await leadership?.close();
        const dir = await mkdtemp(path.join(os.tmpdir(), "conformance-commits-"));
        try {
          const plain = await indexerOn(net, await createLowdbIndexStore(dir), opts);
          await plain.syncOnce();
          expect(plain.state().eventCount).to.equal(asking.state().eventCount);
          expect(plain.stats().writes).to.equal(1);
          expect(asking.stats().writes).to.be.at.least(Math.floor(asking.state().eventCount / 20));
          expect(asking.stats().writes).to.be.above(3);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });

      it("on PostgreSQL: a writer's first commit after taking the lock rewrites the whole index, and its cost does not hold back the next commit at the head", async function () {
        if (backend.name !== "postgres") return this.skip();
        const { net, parties } = await setup();
        await generateHistory(net, { ...parties, orders: 2, tag: "r" });
        const store = await backend.indexStore();
        // The whole rewrite reported as a minute's work (as a large index on a busy machine takes):
        // taken as a cost per event, the next small commit would wait 49 times its share of it.
        const slowWhole: IndexStore = {
          ...store,
          save: async (doc, changes, fence) => {
            const w = await store.save(doc, changes, fence);
            return w.whole ? { ...w, ms: 60_000 } : w;
          },
        };
        const { databaseUrl } = await backend.place();
        // Another process holds the writer's lock: this one follows the chain and writes nothing.
        const other = new pg.Client({ connectionString: databaseUrl });
        await other.connect();
        await other.query("SELECT pg_advisory_lock($1)", [LOCK_INDEXER.toString()]);
        const leadership = createIndexLeadership({ url: databaseUrl!, inner: slowWhole, retryMs: 100 });
        const until = async (what: string, done: () => boolean) => {
          const deadline = Date.now() + 10_000;
          while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          expect(done(), what).to.equal(true);
        };
        try {
          const indexer = await createIndexer({
            publicClient: net.publicClient,
            deployment: net.deployment,
            dataDir: "/nonexistent-unused",
            store: leadership.store,
            pollIntervalMs: 50,
            commitIntervalMs: 200,
            logger: pino({ level: "silent" }),
          });
          indexers.push(indexer);
          await indexer.start();
          expect(leadership.isLeader()).to.equal(false);
          // The other process dies; this one takes the lock, and its next commit rewrites the whole index.
          await other.end();
          await until("the lock taken", () => leadership.isLeader());
          await until("the whole rewrite written", () => indexer.stats().lastWrite.whole === true);
          expect(indexer.stats().lastWrite.ms).to.equal(60_000);
          // The chain moves on: the writer commits the head as it would have without the rewrite.
          await generateHistory(net, { ...parties, orders: 1, tag: "r3" });
          const head = Number(await net.publicClient.getBlockNumber());
          await until("the head committed by the new writer", () => indexer.checkpoint()?.blockNumber === head);
        } finally {
          await leadership.close();
          await other.end().catch(() => undefined);
        }
      });

      it("on PostgreSQL: a process that takes the writer's lock writes its whole index at its next poll, even on a chain that has not moved", async function () {
        if (backend.name !== "postgres") return this.skip();
        const { net, parties } = await setup();
        await generateHistory(net, { ...parties, orders: 2, tag: "q" });
        const store = await backend.indexStore();
        const { databaseUrl } = await backend.place();
        // Another process holds the writer's lock and has written nothing yet (it died before its commit).
        const other = new pg.Client({ connectionString: databaseUrl });
        await other.connect();
        await other.query("SELECT pg_advisory_lock($1)", [LOCK_INDEXER.toString()]);
        const leadership = createIndexLeadership({ url: databaseUrl!, inner: store, retryMs: 100 });
        try {
          const indexer = await createIndexer({
            publicClient: net.publicClient,
            deployment: net.deployment,
            dataDir: "/nonexistent-unused",
            store: leadership.store,
            pollIntervalMs: 50,
            logger: pino({ level: "silent" }),
          });
          indexers.push(indexer);
          await indexer.start();
          const head = Number(await net.publicClient.getBlockNumber());
          expect(indexer.stats().indexedBlock).to.equal(head);
          expect((await store.load())?.checkpoint ?? null, "nothing written while another holds the lock").to.equal(null);
          // The other process dies with the chain quiet: no new block will make this one commit.
          await other.end();
          const deadline = Date.now() + 10_000;
          let saved = await store.load();
          while (saved?.checkpoint?.blockNumber !== head && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
            saved = await store.load();
          }
          expect(leadership.isLeader()).to.equal(true);
          expect(saved?.checkpoint?.blockNumber, "the database's index at the head").to.equal(head);
          expect(Number(await net.publicClient.getBlockNumber()), "no block mined meanwhile").to.equal(head);
          expect(saved!.state.eventCount).to.equal(indexer.state().eventCount);
        } finally {
          await leadership.close();
          await other.end().catch(() => undefined);
        }
      });

      it("starts over when the saved index belongs to other contracts", async () => {
        const { net, parties } = await setup();
        await generateHistory(net, { ...parties, orders: 2, tag: "one" });
        const first = await indexerOn(net, await backend.indexStore());
        await first.syncOnce();
        await first.stop();
        const other: Net = { publicClient: net.publicClient, deployment: await deployContracts(net.publicClient, parties.operator) };
        const second = await indexerOn(other, await backend.indexStore());
        await second.syncOnce();
        expect(second.state().eventCount).to.be.below(first.state().eventCount);
        const saved = (await (await backend.indexStore()).load())!;
        expect(saved.identity.contracts.TradeOrders).to.equal(other.deployment.contracts.TradeOrders.toLowerCase());
        expect(canonical(saved.state)).to.deep.equal(canonical(second.state()));
      });
      it("rebuilds from the chain an index saved in an earlier format, instead of serving it without the lists that format lacked", async () => {
        const { net, parties } = await setup();
        await generateHistory(net, { ...parties, orders: 3, anchors: 1, tag: "v1" });
        const first = await indexerOn(net, await backend.indexStore());
        await first.syncOnce();
        await first.stop();
        const expected = await freshState(net);
        const lists = ["ordersByShippingDocument", "receivablesByInvoice", "loansByDocument", "receivablesByOrder"] as const;
        // (this history has no loans: loansByDocument is checked by the evidence tests)
        for (const list of lists.filter((l) => l !== "loansByDocument")) expect(Object.keys(first.state()[list]), list).to.not.be.empty;

        // What version 1 of the index wrote: the same, without the document and per-order lists.
        const { dataDir, db } = await backend.place();
        if (db) {
          await db.pool.query("UPDATE index_meta SET version = 1");
          await db.pool.query("DELETE FROM index_list_segments WHERE coll = ANY($1::text[])", [lists]);
        } else {
          const file = path.join(dataDir, "index.json");
          const doc = JSON.parse(await readFile(file, "utf8")) as { version: number; state: Record<string, unknown> };
          doc.version = 1;
          for (const list of lists) delete doc.state[list];
          await writeFile(file, JSON.stringify(doc));
        }
        const reopened = await indexerOn(net, await backend.indexStore());
        await reopened.syncOnce();
        expect(canonical(reopened.state())).to.deep.equal(expected);
        const saved = (await (await backend.indexStore()).load())!;
        expect(saved.version).to.equal(STORE_VERSION);
        expect(canonical(saved.state)).to.deep.equal(expected);
      });
    });

    describe("records (applications, timestamps)", () => {
      interface Rec {
        id: string;
        n: number;
        amount: string;
      }
      /** An application of `borrower` pledging `receivableIds`, as the applications service writes one (`changed`: fields set otherwise). */
      const application = (
        id: string,
        borrower: Address,
        receivableIds: string[],
        changed: Partial<ApplicationRecord> = {},
      ): ApplicationRecord => ({
        id,
        borrower,
        lender: B,
        amount: "100000",
        termDays: 60,
        requested: { amount: "100000", termDays: 60 },
        receivableIds,
        scopes: 31,
        purpose: `0x${"03".repeat(32)}`,
        status: "submitted",
        createdAt: 1_700_000_000,
        updatedAt: 1_700_000_000,
        timeline: [],
        signatures: {},
        ...changed,
      });
      /** What a put came to: "written", or the refusal's message. */
      const outcome = (write: Promise<void>) =>
        write.then(
          () => "written",
          (err: Error) => err.message,
        );
      it("keeps the last version of each id across a reopen, hands out copies, keeps kinds apart", async () => {
        const store = await backend.records<Rec>("apps");
        const other = await backend.records<Rec>("stamps");
        await store.put({ id: "a", n: 1, amount: "100" });
        await store.put({ id: "b", n: 1, amount: "5" });
        await store.put({ id: "a", n: 2, amount: "123456789012345678901234567890" });
        await other.put({ id: "a", n: 99, amount: "0" });
        const copy = store.get("a")!;
        copy.n = 1000;
        expect(store.get("a")).to.deep.equal({ id: "a", n: 2, amount: "123456789012345678901234567890" });
        await store.close();
        await other.close();
        const reopened = await backend.records<Rec>("apps");
        expect(reopened.get("a")).to.deep.equal({ id: "a", n: 2, amount: "123456789012345678901234567890" });
        expect(reopened.all().sort((x, y) => x.id.localeCompare(y.id))).to.deep.equal([
          { id: "a", n: 2, amount: "123456789012345678901234567890" },
          { id: "b", n: 1, amount: "5" },
        ]);
        expect(reopened.get("missing")).to.equal(undefined);
        const stamps = await backend.records<Rec>("stamps");
        expect(stamps.get("a")!.n).to.equal(99);
        await stamps.close();
        await reopened.close();
      });
      it("on PostgreSQL: a retry another process takes is its first application, whatever receivables that process preselected", async function () {
        if (backend.name !== "postgres") this.skip();
        // Two processes on one database, each with the guard the applications service inserts with.
        const open = async () =>
          PostgresRecordStore.open<ApplicationRecord>((await backend.place()).db!, "applications", creationGuard(undefined));
        const [onA, onB] = [await open(), await open()];
        const retried = (id: string, receivableIds: string[], named?: string[]) =>
          application(id, A, receivableIds, {
            requested: { amount: "100000", termDays: 60, ...(named ? { receivableIds: named } : {}) },
            idempotencyKey: "retry-1",
          });
        // A made the application from the receivables it knew of (none named: its preselection).
        await onA.put(retried("first", ["7"]));
        // The client's retry reaches B, which has not heard of it yet and knows a receivable more: its
        // preselection differs, but the request is the same, so it is the first application.
        expect(await outcome(onB.put(retried("retry", ["7", "8"])))).to.match(/application first was created for this Idempotency-Key/);
        // The same key with other receivables named is another request: refused, naming the first.
        expect(await outcome(onB.put(retried("other", ["8"], ["8"])))).to.match(
          /Idempotency-Key retry-1 was used for application first with a different request/,
        );
        // Naming exactly what the first pledged is the same request.
        expect(await outcome(onB.put(retried("named", ["7"], ["7"])))).to.match(/application first was created/);
        expect(onB.all().map((x) => x.id)).to.deep.equal([]);
        await onA.close();
        await onB.close();
      });
      it("on PostgreSQL: a guarded insert is one round trip while the process's copy of the group is current, and decides on the database's when it is not; at once on two processes, one application per receivable", async function () {
        if (backend.name !== "postgres") this.skip();
        const open = async () =>
          PostgresRecordStore.open<ApplicationRecord>((await backend.place()).db!, "applications", creationGuard(undefined));
        const [onA, onB] = [await open(), await open()];
        // Every statement sent to the database (round trips), whichever connection sends it.
        let statements = 0;
        const query = pg.Client.prototype.query;
        pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
          statements++;
          return (query as (...a: unknown[]) => unknown).apply(this, args);
        } as typeof query;
        try {
          statements = 0;
          expect(await outcome(onB.put(application("b1", A, ["1"])))).to.equal("written");
          expect(statements, "B's copy of the group is current: one round trip").to.equal(1);
          statements = 0;
          await onB.put({ ...onB.get("b1")!, updatedAt: 1_700_000_001 });
          expect(statements, "a change: one statement, in a transaction of its own").to.equal(1);
          // A has not heard of b1: its copy is behind, so the database's records decide, and allow this one.
          statements = 0;
          expect(await outcome(onA.put(application("a1", A, ["2"])))).to.equal("written");
          expect(statements, "A's one-round-trip insert refused, then the lock, the group, the insert").to.be.greaterThan(1);
          // B has not heard of a1, which holds receivable 2: refused on the database's records, not B's copy.
          expect(await outcome(onB.put(application("b2", A, ["2"])))).to.match(
            /receivable 2 is already the collateral of live application a1/,
          );
          expect(onB.get("b2")).to.equal(undefined);
          // The check refusing on B's copy is not the last word either: b1 is withdrawn on A, unknown to B.
          await onA.refresh("b1");
          await onA.put({ ...onA.get("b1")!, status: "withdrawn" });
          expect(await outcome(onB.put(application("b3", A, ["1"])))).to.equal("written");
        } finally {
          pg.Client.prototype.query = query;
        }
        // Both current, both in one round trip at once, for the same receivable of one borrower: one wins.
        for (let round = 0; round < 12; round++) {
          await onA.reload();
          await onB.reload();
          const borrower = `0x${(0xc000 + round).toString(16).padStart(40, "0")}` as Address;
          const both = await Promise.all([
            outcome(onA.put(application(`race${round}a`, borrower, [`r${round}`]))),
            outcome(onB.put(application(`race${round}b`, borrower, [`r${round}`]))),
          ]);
          expect(
            both.filter((o) => o === "written"),
            `round ${round}: ${both.join(" / ")}`,
          ).to.have.length(1);
          expect(both.find((o) => o !== "written")).to.match(
            new RegExp(`receivable r${round} is already the collateral of live application race${round}[ab]`),
          );
        }
        await onA.close();
        await onB.close();
      });
      it("on PostgreSQL: the guard reads each record's head; rows an earlier version wrote without one get it at open, and are read from their value until then", async function () {
        if (backend.name !== "postgres") this.skip();
        const db = (await backend.place()).db!;
        const earlier = {
          id: "earlier",
          borrower: A,
          lender: B,
          amount: "100000",
          termDays: 60,
          receivableIds: ["9"],
          scopes: 31,
          status: "submitted",
          createdAt: 1_700_000_000,
          idempotencyKey: null,
          timeline: [],
        };
        // As an earlier version wrote it: the value only.
        await db.pool.query("INSERT INTO records (kind, id, value) VALUES ('applications', 'earlier', $1)", [JSON.stringify(earlier)]);
        const store = await PostgresRecordStore.open<ApplicationRecord>(db, "applications", creationGuard(undefined));
        const { rows } = await db.pool.query<{ head: unknown }>("SELECT head FROM records WHERE kind = 'applications' AND id = 'earlier'");
        // The fields the guard reads, nulls left out, as the database gives them.
        expect(rows[0].head).to.deep.equal({
          id: "earlier",
          status: "submitted",
          receivableIds: ["9"],
          createdAt: 1_700_000_000,
          lender: B,
          amount: "100000",
          termDays: 60,
          scopes: 31,
        });
        const later = application("later", A, ["9"]);
        const refused = await outcome(store.put(later));
        expect(refused).to.match(/receivable 9 is already the collateral of live application earlier/);
        // A row without a head written after the open (an earlier version's process beside this one): read from its value.
        await db.pool.query("INSERT INTO records (kind, id, value) VALUES ('applications', 'beside', $1)", [
          JSON.stringify({ ...earlier, id: "beside", receivableIds: ["10"] }),
        ]);
        const beside = await outcome(store.put({ ...later, id: "later10", receivableIds: ["10"] }));
        expect(beside).to.match(/receivable 10 is already the collateral of live application beside/);
        // A change written by this version keeps the head with the value.
        await store.put({ ...store.get("earlier")!, status: "withdrawn" });
        const after = await db.pool.query<{ head: { status: string } }>(
          "SELECT head FROM records WHERE kind = 'applications' AND id = 'earlier'",
        );
        expect(after.rows[0].head.status).to.equal("withdrawn");
        await store.put(later);
        expect(store.get("later")?.receivableIds).to.deep.equal(["9"]);
        await store.close();
      });
    });

    describe("documents' index and batches", () => {
      it("records uploads, pending, batch proofs and purges, and a reopen reads the same", async () => {
        let clock = 1_000;
        const store = await backend.documents(() => clock++);
        const bytes = new TextEncoder().encode("%PDF-1.4 invoice 1");
        const first = await store.put({ bytes, mime: "application/pdf", owner: A, kind: "invoice", link: { type: "order", id: "1" } });
        expect(first.created).to.equal(true);
        const again = await store.put({ bytes, mime: "application/pdf", owner: B, kind: "invoice" });
        expect(again.created).to.equal(false);
        expect(again.record.uploads.map((u) => u.owner)).to.deep.equal([A, B]);
        const other = await store.put({ bytes: new TextEncoder().encode("id scan"), mime: "image/png", owner: A, kind: "kyc_id_scan" });
        const h1 = sha256Hex(bytes);
        const h2 = other.record.sha256;
        expect(store.pending()).to.deep.equal([h1, h2]);
        expect(Buffer.from((await store.readContent(h1))!).toString()).to.equal("%PDF-1.4 invoice 1");

        const root = `0x${"ab".repeat(32)}` as Hex;
        await store.recordBatch(batchOf(root, [h1], 7), { [h1]: [`0x${"03".repeat(32)}`] });
        expect(store.pending()).to.deep.equal([h2]);
        expect(await store.purge(h2, { kinds: ["kyc_id_scan"], lastUploadedAt: 1, purgedAt: 5_000, retentionMs: 10 })).to.equal(true);
        expect(await store.purge(h2, { kinds: ["kyc_id_scan"], lastUploadedAt: 1, purgedAt: 6_000, retentionMs: 10 })).to.equal(false);
        expect(await store.readContent(h2)).to.equal(null);

        const reopened = await backend.documents();
        expect(reopened.get(h1)).to.deep.equal(store.get(h1));
        expect(reopened.get(h1)!.batch!.proof).to.deep.equal([`0x${"03".repeat(32)}`]);
        expect(reopened.get(h2)!.purgedAt).to.equal(5_000);
        expect(reopened.batch(root)!.hashes).to.deep.equal([h1]);
        expect(reopened.pending()).to.deep.equal([h2]);
        expect(reopened.purges()).to.deep.equal([
          { sha256: h2, kinds: ["kyc_id_scan"], lastUploadedAt: 1, purgedAt: 5_000, retentionMs: 10 },
        ]);
        expect(
          reopened
            .list()
            .map((d) => d.sha256)
            .sort(),
        ).to.deep.equal([h1, h2].sort());
        // A purged document uploaded again has its bytes back.
        await reopened.put({ bytes: new TextEncoder().encode("id scan"), mime: "image/png", owner: A, kind: "kyc_id_scan" });
        expect(Buffer.from((await reopened.readContent(h2))!).toString()).to.equal("id scan");
        expect(reopened.get(h2)!.purgedAt).to.equal(undefined);
      });
    });

    describe("documents' bytes", () => {
      it("on PostgreSQL: an upload on one process is read on another with a DATA_DIR of its own, and damaged bytes are named, not served", async function () {
        if (!backend.shared) this.skip(); // the lowdb files belong to one process
        const { db } = await backend.place();
        const elsewhere = await mkdtemp(path.join(os.tmpdir(), "conformance-other-process-"));
        try {
          const one = (await backend.documents()) as DocumentStore & { changed(what: string): Promise<void> };
          const other = (await backend.documents(undefined, elsewhere)) as DocumentStore & { changed(what: string): Promise<void> };
          const bytes = new TextEncoder().encode("%PDF-1.4 delivery note 7");
          const { record } = await one.put({ bytes, mime: "application/pdf", owner: A, kind: "delivery_note" });
          await other.changed(record.sha256); // what LISTEN does in the service
          expect(Buffer.from((await other.readContent(record.sha256))!).toString()).to.equal("%PDF-1.4 delivery note 7");

          await db!.pool.query("UPDATE document_bytes SET bytes = $2 WHERE sha256 = $1", [record.sha256, Buffer.from("forged")]);
          const damaged = await other.readContent(record.sha256).then(
            () => null,
            (err: Error & { file?: string }) => err,
          );
          expect(damaged?.name).to.equal("DocumentCorruptError");
          expect(damaged?.file).to.equal(`document_bytes ${record.sha256}`);

          // A purge on one process removes the bytes for all.
          expect(await one.purge(record.sha256, { kinds: ["delivery_note"], lastUploadedAt: 1, purgedAt: 9, retentionMs: 1 })).to.equal(
            true,
          );
          await other.changed(`purge:${record.sha256}`);
          expect(await other.readContent(record.sha256)).to.equal(null);
          expect((await db!.pool.query("SELECT 1 FROM document_bytes WHERE sha256 = $1", [record.sha256])).rowCount).to.equal(0);
        } finally {
          await rm(elsewhere, { recursive: true, force: true });
        }
      });

      it("on PostgreSQL: two processes changing one document's record at once lose no upload (a batch or a purge from a stale copy included)", async function () {
        if (!backend.shared) this.skip();
        type Shared = DocumentStore & { changed(what: string): Promise<void> };
        const one = (await backend.documents()) as Shared;
        const other = (await backend.documents()) as Shared;
        const owners = async (store: Shared, sha256: Hex) => {
          await store.changed(sha256);
          return store
            .get(sha256)!
            .uploads.map((u) => u.owner)
            .sort();
        };
        // The same new file uploaded on both at once: one record, both uploads, created once.
        const bytes = new TextEncoder().encode("%PDF-1.4 the same invoice from two parties");
        const both = await Promise.all([
          one.put({ bytes, mime: "application/pdf", owner: A, kind: "invoice" }),
          other.put({ bytes, mime: "application/pdf", owner: B, kind: "invoice" }),
        ]);
        const sha256 = both[0].record.sha256;
        expect(both.filter((r) => r.created)).to.have.length(1);
        expect(await owners(one, sha256)).to.deep.equal([A, B].sort());

        // Another upload on `other`, which `one` has not heard of; then `one` records a batch from its stale
        // copy: the upload it never saw is kept.
        const C = "0x00000000000000000000000000000000000000c3" as Address;
        await other.put({ bytes, mime: "application/pdf", owner: C, kind: "invoice" });
        await one.recordBatch(batchOf(`0x${"cd".repeat(32)}`, [sha256], 8), { [sha256]: [] });
        const reopened = (await backend.documents()) as Shared;
        expect(await owners(reopened, sha256)).to.deep.equal([A, B, C].sort());
        expect(reopened.get(sha256)!.batch?.root).to.equal(`0x${"cd".repeat(32)}`);
        // One more upload `one` has not heard of: a purge decided on its copy is not made (the upload it
        // missed renews the document) ...
        const D = "0x00000000000000000000000000000000000000d4" as Address;
        await other.put({ bytes, mime: "application/pdf", owner: D, kind: "invoice" });
        const purge = () => one.purge(sha256, { kinds: ["invoice"], lastUploadedAt: 1, purgedAt: 9, retentionMs: 1 });
        expect(await purge()).to.equal(false);
        expect(one.get(sha256)!.uploads).to.have.length(4);
        // ... and, decided again on the current record, keeps every upload in it.
        expect(await purge()).to.equal(true);
        const after = (await backend.documents()) as Shared;
        expect(await owners(after, sha256)).to.deep.equal([A, B, C, D].sort());
        expect(after.get(sha256)!.purgedAt).to.equal(9);
      });

      it("on PostgreSQL: bytes an earlier version kept under DATA_DIR/documents are taken into the database at start", async function () {
        if (!backend.shared) this.skip();
        const { db, dataDir } = await backend.place();
        const one = await backend.documents();
        const bytes = new TextEncoder().encode("%PDF-1.4 invoice from before");
        const { record } = await one.put({ bytes, mime: "application/pdf", owner: A, kind: "invoice" });
        // As an earlier version left it: the record in the database, the bytes only in a file.
        await db!.pool.query("DELETE FROM document_bytes WHERE sha256 = $1", [record.sha256]);
        const file = path.join(dataDir, "documents", record.sha256.slice(2, 4), record.sha256.slice(2));
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, bytes);
        await backend.documents(); // a process with that DATA_DIR starts
        const elsewhere = await mkdtemp(path.join(os.tmpdir(), "conformance-other-process-"));
        try {
          const other = await backend.documents(undefined, elsewhere);
          expect(Buffer.from((await other.readContent(record.sha256))!).toString()).to.equal("%PDF-1.4 invoice from before");
        } finally {
          await rm(elsewhere, { recursive: true, force: true });
        }
      });
    });

    describe("sessions", () => {
      it("creates, reads, revokes and expires sessions; a reopen (another process) knows them without storing the token", async () => {
        const now = Math.floor(Date.now() / 1000);
        const store = await backend.sessions();
        const token = await store.create({ address: A, chainId: 31337, issuedAt: now, expiresAt: now + 3600 });
        const expired = await store.create({ address: B, chainId: 31337, issuedAt: now - 10, expiresAt: now - 1 });
        expect(await store.get(token)).to.deep.equal({ address: A, chainId: 31337, issuedAt: now, expiresAt: now + 3600 });
        expect(await store.get(expired)).to.equal(null);
        expect(await store.get("not a token")).to.equal(null);
        expect(await store.get("A".repeat(43))).to.equal(null);
        expect(await store.size()).to.equal(1);

        // Same place, generated secret: the other instance knows the session.
        const other = await backend.sessions();
        expect((await other.get(token))?.address).to.equal(A);
        // Another secret: the stored HMAC does not match, the token is unknown.
        const otherSecret = await backend.sessions("x".repeat(40));
        expect(await otherSecret.get(token)).to.equal(null);

        // Shared by processes: a sign-out on one is a sign-out on all, at once.
        if (backend.shared) {
          await other.revoke(token);
          expect(await store.get(token)).to.equal(null);
        } else await store.revoke(token);
        expect(await store.get(token)).to.equal(null);
        expect(await (await backend.sessions()).get(token)).to.equal(null);
      });
    });

    describe("notifications: read marks, webhooks and their outbox", () => {
      const LENDER = A;
      /** An application waiting for LENDER's review: one notification for it, `in_review:<id>`. */
      const inReview = (id: string) =>
        ({
          id,
          borrower: B,
          lender: LENDER,
          amount: "250000",
          timeline: [{ step: "in_review", at: 1_000 }],
        }) as unknown as ApplicationRecord;
      const services: NotificationService[] = [];
      afterEach(async () => {
        for (const s of services.splice(0)) await s.close();
      });
      async function open(apps: ApplicationRecord[], runsJobs: () => boolean = () => true) {
        const service = await NotificationService.open({
          ...(await backend.place()),
          runsJobs,
          loansOf: async () => emptyIndexState(),
          applications: () => apps,
          now: async () => 2_000,
          dueSoonDays: 7,
          retryBaseMs: 50,
          maxAttempts: 100,
          allowLoopback: true,
        });
        services.push(service);
        return service;
      }

      it("keeps marks, the webhook, a pending delivery and its log across a reopen; the next instance delivers it under the same id", async () => {
        const hook = await webhookReceiver();
        try {
          hook.state.status = 503;
          const apps: ApplicationRecord[] = [];
          const first = await open(apps);
          const registered = await first.setWebhook(LENDER, hook.url);
          apps.push(inReview("app-1"));
          await first.markRead(LENDER, "all");
          first.start();
          await first.sync();
          await until("a failed attempt", 10_000, async () => first.deliveries(LENDER).log.length >= 1);
          await first.close();
          services.splice(services.indexOf(first), 1);

          const next = await open(apps);
          expect(next.webhookOf(LENDER)).to.deep.equal({ url: hook.url, createdAt: registered.createdAt });
          expect((await next.list(LENDER)).unread).to.equal(0);
          const kept = next.deliveries(LENDER);
          expect(kept.pending).to.equal(1);
          expect(kept.log[0]).to.include({ notificationId: "in_review:app-1", outcome: "failed", status: 503 });
          hook.state.status = 204;
          next.start();
          await until("the delivery", 10_000, async () => next.deliveries(LENDER).log[0]?.outcome === "delivered");
          const ids = new Set(hook.received.map((r) => r.headers[DELIVERY_HEADER.toLowerCase()]));
          expect(ids.size, "every attempt carried the same delivery id").to.equal(1);
          expect(next.deliveries(LENDER).pending).to.equal(0);
        } finally {
          await hook.close();
        }
      });

      it("takes over what an earlier version kept in notifications/notifications.json, once", async () => {
        const { dataDir } = await backend.place();
        const file = path.join(dataDir, "notifications", "notifications.json");
        await mkdir(path.dirname(file), { recursive: true });
        const legacyHook = { url: "https://bank.example/hook", secret: "s".repeat(64), createdAt: 1_500, enqueued: ["in_review:old"] };
        await writeFile(file, JSON.stringify({ read: { [B]: ["x"] }, hooks: { [LENDER]: legacyHook }, outbox: [], log: {} }));
        const service = await open([]);
        expect(service.webhookOf(LENDER)).to.deep.equal({ url: legacyHook.url, createdAt: 1_500 });
        expect(existsSync(file)).to.equal(false);
        expect(existsSync(`${file}.imported`)).to.equal(true);
        await service.deleteWebhook(LENDER);
        await service.close();
        services.splice(services.indexOf(service), 1);
        // The renamed file is not read again: the deletion holds.
        expect((await open([])).webhookOf(LENDER)).to.equal(null);
      });

      it("two processes: the same marks and webhook on both, no change lost to a concurrent one, only the job runner delivers", async function () {
        if (!backend.shared) this.skip(); // the lowdb files belong to one process
        const hook = await webhookReceiver();
        try {
          const apps = [inReview("app-1"), inReview("app-2")];
          let jobsOnA = true;
          const a = await open(apps, () => jobsOnA);
          const b = await open(apps, () => !jobsOnA);
          // What LISTEN does in the service: each tells the other what it wrote.
          const relay = (to: NotificationService) => async (kind: string, id: string) => to.changeHandlers()[kind].changed(id);
          const toA = relay(a);
          const toB = relay(b);
          const registered = await b.setWebhook(LENDER, hook.url);
          await toA("webhooks", LENDER);
          expect(a.webhookOf(LENDER)).to.deep.equal({ url: hook.url, createdAt: registered.createdAt });
          // Both mark at once, each from its own copy: both marks are kept (one retries on the other's version).
          await Promise.all([a.markRead(LENDER, ["in_review:app-1"]), b.markRead(LENDER, ["in_review:app-2"])]);
          await toA("notification-reads", LENDER);
          await toB("notification-reads", LENDER);
          for (const s of [a, b]) expect((await s.list(LENDER)).unread).to.equal(0);

          // A notification after the registration: B (not running the jobs) neither enqueues nor sends it.
          apps.push(inReview("app-3"));
          await b.sync();
          expect(b.deliveries(LENDER).pending).to.equal(0);
          hook.state.status = 500;
          a.start();
          b.start();
          await a.sync();
          await until("A's failed attempt", 10_000, async () => a.deliveries(LENDER).log.length >= 1);
          // A stops running the jobs (it died); B, told of A's writes, delivers the same delivery.
          jobsOnA = false;
          await toB("webhooks", LENDER);
          hook.state.status = 200;
          await b.sync();
          await until("B's delivery", 10_000, async () => b.deliveries(LENDER).log[0]?.outcome === "delivered");
          const bodies = new Set(hook.received.map((r) => r.body));
          expect(bodies.size).to.equal(1);
          expect(JSON.parse([...bodies][0]).notification.id).to.equal("in_review:app-3");
          expect(new Set(hook.received.map((r) => r.headers[DELIVERY_HEADER.toLowerCase()])).size).to.equal(1);
        } finally {
          await hook.close();
        }
      });
    });

    describe("access log", () => {
      it("pages an enterprise's entries newest first with a cursor, keeps enterprises apart, and keeps them across a reopen", async () => {
        const log = await backend.accessLog();
        for (let i = 0; i < 7; i++) {
          await log.append({ enterprise: A, reader: B, basis: "consent", scopes: ["metrics"], resource: `GET /r/${i}` });
          if (i % 3 === 0) await log.append({ enterprise: B, reader: A, basis: "operator", scopes: ["orders"], resource: `GET /b/${i}` });
        }
        await log.close();
        const reopened = await backend.accessLog();
        const p1 = await reopened.page(A, { limit: 3 });
        expect(p1.total).to.equal(7);
        expect(p1.items.map((e) => e.resource)).to.deep.equal(["GET /r/6", "GET /r/5", "GET /r/4"]);
        expect(p1.nextCursor).to.be.a("string");
        const p2 = await reopened.page(A, { limit: 3, cursor: p1.nextCursor });
        expect(p2.items.map((e) => e.resource)).to.deep.equal(["GET /r/3", "GET /r/2", "GET /r/1"]);
        const p3 = await reopened.page(A, { limit: 3, cursor: p2.nextCursor });
        expect(p3.items.map((e) => e.resource)).to.deep.equal(["GET /r/0"]);
        expect(p3.nextCursor).to.equal(undefined);
        const skipped = await reopened.page(A, { limit: 2, offset: 1 });
        expect(skipped.items.map((e) => e.resource)).to.deep.equal(["GET /r/5", "GET /r/4"]);
        const b = await reopened.page(B, { limit: 10 });
        expect(b.total).to.equal(3);
        expect(b.items.every((e) => e.enterprise === B && e.basis === "operator")).to.equal(true);
        expect((await reopened.page("0x00000000000000000000000000000000000000c3" as Address, { limit: 5 })).total).to.equal(0);
        expect(p1.items[0]).to.include.keys("id", "at");
        await reopened.close();
      });

      it("takes reads logged at once, in the order they came, and one entry the store refuses fails only its own read", async () => {
        const log = await backend.accessLog();
        // A NUL character is valid JSON but not valid jsonb: PostgreSQL refuses that entry. Logged at the
        // same moment as the others, it must not take their entries (and so their answers) down with it.
        const appends = Array.from({ length: 30 }, (_, i) =>
          log.append({
            enterprise: A,
            reader: B,
            basis: "consent",
            scopes: ["metrics"],
            resource: i === 17 ? "GET /\u0000" : `GET /at-once/${i}`,
          }),
        );
        const settled = await Promise.allSettled(appends);
        const good = settled.filter((_, i) => i !== 17);
        expect(good.map((r) => r.status)).to.deep.equal(Array(29).fill("fulfilled"));
        const page = await log.page(A, { limit: 100 });
        const listed = page.items.map((e) => e.resource).reverse();
        const odd = settled[17].status === "fulfilled" ? ["GET /\u0000"] : [];
        const expected = Array.from({ length: 30 }, (_, i) => (i === 17 ? odd : [`GET /at-once/${i}`])).flat();
        expect(listed).to.deep.equal(expected);
        expect(new Set(page.items.map((e) => e.id)).size).to.equal(page.items.length);
        await log.close();
      });
    });
  });
}

describe("the service on both stores: index -> metrics, sessions and applications' store on PostgreSQL", function () {
  this.timeout(240_000);
  const dirs: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const d of dirs.splice(0)) await removeDir(d);
  });

  it("gives exactly the same metric values on lowdb and PostgreSQL, and keeps a session across a restart on PostgreSQL", async () => {
    const net = await deployNetwork();
    await net.tradeOnce(100_000n);
    await net.tradeOnce(250_000n);
    const { receivableId } = await net.tradeOnce(400_000n);
    await net.loanOnce(receivableId, { principal: 200_000n, repay: 50_000n, receivablePayment: 400_000n });

    const lowDir = await tempDataDir(net.deployment);
    const pgDir = await tempDataDir(net.deployment);
    dirs.push(lowDir, pgDir);
    const databaseUrl = await freshDatabase();
    const low = await startTestService(testConfig(lowDir));
    closers.push(() => low.close());
    let onPg = await startTestService(testConfig(pgDir, { DATABASE_URL: databaseUrl }));
    closers.push(() => onPg.close());
    await waitIndexed(low, net.publicClient);
    await waitIndexed(onPg, net.publicClient);
    expect(canonical(onPg.indexer.state())).to.deep.equal(canonical(low.indexer.state()));

    const asOf = await net.latestTime();
    const parties = [net.supplier, net.buyer, net.lender].map((w) => w.account.address.toLowerCase() as Address);
    for (const p of parties) {
      const a = computeMetricsUncached(low.indexer.state(), p, asOf);
      const b = computeMetricsUncached(onPg.indexer.state(), p, asOf);
      expect(JSON.stringify(b, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).to.equal(
        JSON.stringify(a, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      );
    }

    // Through the API: the supplier's own metrics, the same bodies on both.
    const supplier = net.supplier.account.address.toLowerCase();
    const lowToken = await signIn(low.url, net.supplier);
    const pgToken = await signIn(onPg.url, net.supplier);
    const fromLow = await call(low.url, "GET", `/api/enterprises/${supplier}/metrics`, { token: lowToken });
    const fromPg = await call(onPg.url, "GET", `/api/enterprises/${supplier}/metrics`, { token: pgToken });
    expect(fromPg.status).to.equal(200);
    expect(fromPg.body).to.deep.equal(fromLow.body);

    // A restart on the same database: the index loads from PostgreSQL, the session still works.
    await onPg.close();
    onPg = await startTestService(testConfig(pgDir, { DATABASE_URL: databaseUrl }));
    closers.push(() => onPg.close());
    expect(canonical(onPg.indexer.state())).to.deep.equal(canonical(low.indexer.state()));
    const again = await call(onPg.url, "GET", `/api/enterprises/${supplier}/metrics`, { token: pgToken });
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(fromLow.body);
    // The signed-out token is refused on PostgreSQL as on lowdb.
    expect((await call(onPg.url, "POST", "/api/auth/logout", { token: pgToken })).status).to.be.oneOf([200, 204]);
    expect((await call(onPg.url, "GET", `/api/enterprises/${supplier}/metrics`, { token: pgToken })).status).to.equal(401);
  });
});
