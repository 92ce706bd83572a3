/**
 * The chain index's lists on PostgreSQL are segments (one row per run of items a commit appended,
 * migrations/002_index_list_segments.sql). A cut inside a segment (a rollback) must rewrite that
 * segment from its start, and an index written by migration 001 (one row per item) must load the same
 * after 002.
 */
import { expect } from "chai";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { Hex } from "viem";
import type { EventRef } from "../../node-service/src/domain/entities";
import { applyMutations, ChangeSet, push, put, type Mutation } from "../../node-service/src/domain/mutations";
import { STORE_VERSION } from "../../node-service/src/store/index-store";
import { migrate, MIGRATIONS_DIR, openDatabase, type Database } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexReader } from "../../node-service/src/store/postgres/index-reader";
import { createPostgresIndexStore } from "../../node-service/src/store/postgres/index-store";
import { freshDatabase } from "../../scripts/lib/test-postgres";
import { freshPostgresIndex, TEST_IDENTITY } from "../../scripts/lib/test-postgres-index";

const PARTY = "0x00000000000000000000000000000000000000a1";

function ref(i: number): EventRef {
  return {
    contract: "Receivables",
    event: "Transfer",
    blockNumber: i,
    blockHash: `0x${"2".repeat(64)}`,
    txHash: `0x${"3".repeat(64)}`,
    logIndex: i,
    at: 1_700_000_000 + i,
  };
}

describe("PostgreSQL index lists as segments", function () {
  this.timeout(60_000);
  const dbs: Database[] = [];
  after(async () => {
    for (const db of dbs.splice(0)) await db.close();
  });

  /** A fresh database with an empty index saved in it: its store, the state to change, and the document to save. */
  async function freshIndex() {
    const index = await freshPostgresIndex();
    dbs.push(index.db);
    return index;
  }

  it("a cut inside a segment keeps the items before it, and later appends load in order", async () => {
    const { db, store, state, doc } = await freshIndex();
    const apply = async (muts: Mutation[], cut?: number) => {
      const changes = new ChangeSet();
      if (cut !== undefined) {
        // What undoBlock does: shorten the list in place and name the new length.
        state.receivablesByParty[PARTY].length = cut;
        state.eventsByTx[ref(0).txHash].length = cut;
        changes.list("receivablesByParty", PARTY, cut);
        changes.list("eventsByTx", ref(0).txHash, cut);
      }
      applyMutations(state, muts, undefined, changes);
      await store.save(doc(), changes);
    };
    const items = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => [
        push("receivablesByParty", PARTY, `r${from + k}`),
        push("eventsByTx", ref(0).txHash, ref(from + k)),
      ]).flat();

    await apply(items(0, 3)); // segment 0..2
    await apply(items(3, 8)); // segment 3..7
    await apply([], 5); // cut inside 3..7: 3, 4 stay
    await apply(items(5, 7), 5); // appended after the cut (same commit as another cut at the same place)
    await apply([], 1); // cut inside 0..2, dropping 3..6 whole
    await apply(items(1, 4));

    const expected = ["r0", "r1", "r2", "r3"];
    expect(state.receivablesByParty[PARTY]).to.deep.equal(expected);
    const loaded = (await (await createPostgresIndexStore(db)).load())!;
    expect(loaded.state.receivablesByParty[PARTY]).to.deep.equal(expected);
    expect(loaded.state.eventsByTx[ref(0).txHash]).to.deep.equal([0, 1, 2, 3].map(ref));
    // Read by key as a reader process reads them: the keys of one statement in the order asked, each
    // list's segments joined in order, an absent list empty.
    const absent = "0x00000000000000000000000000000000000000b2";
    const reader = createPostgresIndexReader(db).direct;
    expect(await reader.lists("receivablesByParty", [absent, PARTY, absent])).to.deep.equal([[], expected, []]);
    const rows = await db.pool.query<{ seq: number; n: number }>(
      "SELECT seq, n FROM index_list_segments WHERE coll = 'receivablesByParty' ORDER BY seq",
    );
    expect(rows.rows).to.deep.equal([
      { seq: 0, n: 1 },
      { seq: 1, n: 3 },
    ]);
  });

  it("a snapshot's reads asked at once, and a commit's statements, run one after another on their connection", async () => {
    const { db, store, state, doc } = await freshIndex();
    const changes = new ChangeSet();
    applyMutations(
      state,
      [0, 1, 2].map((i) => push("receivablesByParty", PARTY, `r${i}`)),
      undefined,
      changes,
    );
    // node-postgres queues a query asked while another runs on the same connection, with a deprecation
    // warning (pg 9 refuses it): count the overlaps on every connection.
    const query = pg.Client.prototype.query;
    const running = new Map<unknown, number>();
    let overlaps = 0;
    pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
      const out = (query as (...a: unknown[]) => unknown).apply(this, args);
      if (out instanceof Promise) {
        const n = running.get(this) ?? 0;
        if (n > 0) overlaps += 1;
        running.set(this, n + 1);
        const done = () => running.set(this, (running.get(this) ?? 1) - 1);
        out.then(done, done);
      }
      return out;
    } as typeof query;
    try {
      // A commit of many statements (more rows than one statement carries, lists, undo and meta).
      for (let i = 3; i < 12_000; i++) applyMutations(state, [put("orders", String(i), { id: String(i) } as never)], undefined, changes);
      await store.save(doc(), changes);
      expect(overlaps, "a commit's statements asked while another ran").to.equal(0);
      const { value } = await createPostgresIndexReader(db).inSnapshot((r) =>
        Promise.all([r.lists("receivablesByParty", [PARTY]), r.records("orders", ["0"]), r.lists("receivablesByParty", [PARTY, "0x0"])]),
      );
      expect(value).to.deep.equal([[["r0", "r1", "r2"]], [undefined], [["r0", "r1", "r2"], []]]);
      // Thousands of keys asked at once are read 5,000 per statement, answered in the order asked.
      const keys = Array.from({ length: 12_000 }, (_, i) => String(12_000 - i));
      let asked = 0;
      const counting = pg.Client.prototype.query;
      pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
        asked += 1;
        return (counting as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query;
      const orders = await createPostgresIndexReader(db).inSnapshot((r) => r.records("orders", keys));
      pg.Client.prototype.query = counting;
      expect(orders.value.map((o) => (o as { id?: string } | undefined)?.id)).to.deep.equal(
        keys.map((k) => (Number(k) >= 3 && Number(k) < 12_000 ? k : undefined)),
      );
      expect(asked, "BEGIN, the checkpoint, three statements of keys, COMMIT").to.equal(6);
    } finally {
      pg.Client.prototype.query = query;
    }
    expect(overlaps, "queries asked of a connection while another ran on it").to.equal(0);
  });

  it("a commit writes each list as it was when the save was called, though the list grows in place while it is written", async () => {
    // The indexer reduces the next range while a commit is written (IndexStore.snapshotOnSave): a list of
    // 16 items or more is appended in place meanwhile. One list of 5,000 items fills the commit's first
    // statement of segments; the other, new in this commit (its segment starts at 0), goes in the second,
    // encoded only once the first is sent.
    const { db, state, doc } = await freshIndex();
    // The list grows each time the store sends a statement of segments, as the reducer would meanwhile.
    let grown = 0;
    const growing: Database = {
      ...db,
      tx: (fn, opts) =>
        db.tx((client) => {
          const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<unknown>;
          const spied = Object.assign(Object.create(client) as pg.PoolClient, {
            query: (text: string, values?: unknown[]) => {
              if (text.includes("INSERT INTO index_list_segments")) state.receivablesByParty[PARTY].push(`later${grown++}`);
              return query(text, values);
            },
          });
          return fn(spied);
        }, opts),
    };
    const store = await createPostgresIndexStore(growing);
    const changes = new ChangeSet();
    const pushes: Mutation[] = [];
    for (let i = 0; i < 5000; i++) pushes.push(push("eventsByTx", ref(0).txHash, ref(i)));
    for (let i = 0; i < 20; i++) pushes.push(push("receivablesByParty", PARTY, `r${i}`));
    applyMutations(state, pushes, undefined, changes);
    await store.save(doc(), changes);
    expect(grown).to.equal(2);
    const loaded = (await (await createPostgresIndexStore(db)).load())!;
    expect(loaded.state.receivablesByParty[PARTY]).to.deep.equal(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect(loaded.state.eventsByTx[ref(0).txHash]).to.have.length(5000);
  });

  it("loads the index page by page, equal to what was saved, with each event reference one object across pages and collections", async () => {
    const { db, store, state, doc } = await freshIndex();
    const OTHER = "0x00000000000000000000000000000000000000b2";
    // A tx per event, so eventsByTx has a key per event; PARTY's list gets a segment per commit.
    const tx = (i: number): Hex => `0x${i.toString(16).padStart(64, "0")}`;
    const event = (i: number) => ({ ...ref(i), txHash: tx(i) });
    for (let commit = 0; commit < 3; commit++) {
      const changes = new ChangeSet();
      const muts: Mutation[] = [];
      for (let i = commit * 3; i < commit * 3 + 3; i++) {
        const r = { id: String(i), faceValue: 10n ** 20n + BigInt(i), paid: 0n, payments: [], holder: PARTY, events: [event(i)] };
        muts.push(put("receivables", r.id, r as never), push("receivablesByParty", PARTY, r.id), push("eventsByTx", tx(i), event(i)));
      }
      if (commit === 2) muts.push(push("receivablesByParty", OTHER, "8"));
      applyMutations(state, muts, undefined, changes);
      await store.save(doc(), changes);
    }
    // A new store, as a process starting on this database; two rows per page: every collection takes several.
    for (const pageRows of [2, 1000]) {
      const loaded = (await (await createPostgresIndexStore(db, { pageRows })).load())!;
      expect(loaded.state).to.deep.equal(state);
      expect(loaded.state.receivablesByParty[PARTY]).to.deep.equal(["0", "1", "2", "3", "4", "5", "6", "7", "8"]);
      for (let i = 0; i < 9; i++) expect(loaded.state.receivables[String(i)].events[0]).to.equal(loaded.state.eventsByTx[tx(i)][0]);
    }
  });

  it("an index written by migration 001 (one row per list item) loads the same after 002", async () => {
    const url = await freshDatabase();
    const only001 = await mkdtemp(path.join(os.tmpdir(), "pg-migrations-"));
    try {
      await copyFile(path.join(MIGRATIONS_DIR, "001_init.sql"), path.join(only001, "001_init.sql"));
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      const raw: Database = {
        pool,
        tx: () => Promise.reject(new Error("unused")),
        statement: () => Promise.reject(new Error("unused")),
        batch: () => Promise.reject(new Error("unused")),
        probe: () => Promise.reject(new Error("unused")),
        suspect: () => undefined,
        close: () => pool.end(),
      };
      try {
        expect(await migrate(raw, only001)).to.deep.equal(["001_init.sql"]);
        await pool.query(
          `INSERT INTO index_meta (id, version, identity, checkpoint, undo_floor, event_count) VALUES (1, $1, $2, NULL, 0, 3)`,
          [STORE_VERSION, JSON.stringify(TEST_IDENTITY)],
        );
        await pool.query(
          `INSERT INTO index_lists (coll, key, seq, value) VALUES
            ('receivablesByParty', $1, 0, '"r0"'), ('receivablesByParty', $1, 1, '"r1"'), ('receivablesByParty', $1, 2, '"r2"'),
            ('ordersByParty', $1, 0, '"o0"')`,
          [PARTY],
        );
      } finally {
        await raw.close();
      }
      const db = await openDatabase(url, { max: 2 });
      dbs.push(db);
      const loaded = (await (await createPostgresIndexStore(db)).load())!;
      expect(loaded.state.receivablesByParty[PARTY]).to.deep.equal(["r0", "r1", "r2"]);
      expect(loaded.state.ordersByParty[PARTY]).to.deep.equal(["o0"]);
      const tables = await db.pool.query("SELECT 1 FROM pg_tables WHERE tablename = 'index_lists'");
      expect(tables.rows).to.have.length(0);
    } finally {
      await rm(only001, { recursive: true, force: true });
    }
  });
});
