/**
 * Two "processes" (two pools, two record stores, two document stores) on one PostgreSQL database, and
 * the LISTEN connection of the second: a write on the first reaches the second's reads; a write made
 * while the second's LISTEN connection is cut (pg_terminate_backend) is read at its reconnect, not lost.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "../../node-service/src/store/postgres/db";
import { createChangeListener, type ChangeListener } from "../../node-service/src/store/postgres/listener";
import { PostgresRecordStore, RECORDS_CHANNEL } from "../../node-service/src/store/postgres/record-store";
import { createPostgresDocumentStore } from "../../node-service/src/documents/postgres-store";
import { openPostgresSessionStore } from "../../node-service/src/auth/sessions";
import { ConflictError } from "../../node-service/src/domain/errors";
import { freshDatabase } from "../../scripts/lib/test-postgres";
import { until } from "./service-processes";

interface Rec {
  id: string;
  n: number;
  nested?: { b: string; a: string };
}

describe("LISTEN/NOTIFY between processes on one PostgreSQL database", function () {
  this.timeout(60_000);
  const open: { close(): Promise<void> }[] = [];
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), "pg-listen-"))));
  after(async () => {
    for (const o of open.reverse()) await o.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a write on one process reaches the other's reads; a write missed while LISTEN was cut is read at the reconnect", async () => {
    const url = await freshDatabase();
    const dbA: Database = await openDatabase(url, { max: 2 });
    const dbB: Database = await openDatabase(url, { max: 2 });
    open.push(dbA, dbB);
    const storeA = await PostgresRecordStore.open<Rec>(dbA, "things");
    const storeB = await PostgresRecordStore.open<Rec>(dbB, "things");
    const docsA = await createPostgresDocumentStore({ db: dbA, dataDir: path.join(dir, "a") });
    const docsB = await createPostgresDocumentStore({ db: dbB, dataDir: path.join(dir, "b") });
    const seenOnB: Rec[] = [];
    let resyncs = 0;
    const listener: ChangeListener = createChangeListener({
      url,
      firstRetryMs: 50,
      handlers: {
        things: {
          changed: async (id) => {
            const r = await storeB.refresh(id);
            if (r) seenOnB.push(r);
          },
          resync: async () => {
            resyncs++;
            seenOnB.push(...(await storeB.reload()));
          },
        },
        documents: { changed: (what) => docsB.changed(what), resync: () => docsB.reload() },
      },
    });
    open.push(listener);
    await listener.ready;
    expect(resyncs, "read wholesale once LISTEN is in place").to.equal(1);

    await storeA.put({ id: "x", n: 1, nested: { b: "2", a: "1" } });
    await until("B to read x", 5_000, async () => storeB.get("x")?.n === 1);
    expect(seenOnB.map((r) => r.n)).to.deep.equal([1]);
    // B's own write, notified back to B, is no change for B (jsonb's key order notwithstanding).
    await storeB.put({ id: "x", n: 2, nested: { b: "2", a: "1" } });
    await until("A's view unchanged until it refreshes", 1_000, async () => storeA.get("x")?.n === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      seenOnB.map((r) => r.n),
      "no update for B's own write",
    ).to.deep.equal([1]);

    const { record } = await docsA.put({
      bytes: Buffer.from("a document"),
      mime: "application/pdf",
      owner: `0x${"a".repeat(40)}`,
      kind: "delivery_note",
    });
    await until(
      "B to list the document and its pending hash",
      5_000,
      async () => !!docsB.get(record.sha256) && docsB.pending().includes(record.sha256),
    );

    // Cut B's LISTEN connection; write meanwhile; B reconnects and reads what it missed.
    const cut = await dbA.pool.query<{ n: string }>(
      "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    );
    expect(Number(cut.rows[0].n)).to.equal(1);
    await storeA.put({ id: "y", n: 7 });
    await storeA.refresh("x"); // A's own LISTEN would have read B's change (A has none here)
    await storeA.put({ id: "x", n: 3 });
    await until(
      "B to read what was written while its LISTEN was cut",
      10_000,
      async () => storeB.get("y")?.n === 7 && storeB.get("x")?.n === 3,
    );
    expect(resyncs, "read wholesale again at the reconnect").to.be.at.least(2);
    expect(listener.listening()).to.equal(true);
    // And it listens again.
    await storeA.put({ id: "z", n: 9 });
    await until("B to read z", 5_000, async () => storeB.get("z")?.n === 9);

    // A process that has not seen another's change cannot write over it: refused (409), its copy read again.
    const storeC = await PostgresRecordStore.open<Rec>(dbA, "things");
    await storeA.put({ id: "z", n: 10 });
    const refused = await storeC.put({ id: "z", n: 11 }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(ConflictError);
    expect((refused as ConflictError).status).to.equal(409);
    expect(storeC.get("z")?.n, "C read the winner's version").to.equal(10);
    await until("B to read A's version, not C's", 5_000, async () => storeB.get("z")?.n === 10);
    await storeC.put({ id: "z", n: 11 });
    await until("B to read C's change made on the version it read", 5_000, async () => storeB.get("z")?.n === 11);
  });

  it("a process's own puts, notified back to it, are not read again; another's write and an untagged notification are", async () => {
    const url = await freshDatabase();
    const [dbA, dbB] = [await openDatabase(url, { max: 2 }), await openDatabase(url, { max: 2 })];
    open.push(dbA, dbB);
    const storeA = await PostgresRecordStore.open<Rec>(dbA, "things");
    const storeB = await PostgresRecordStore.open<Rec>(dbB, "things");
    // B's reads of one record (what a refresh costs), counted at its pool.
    let reads = 0;
    const query = dbB.pool.query.bind(dbB.pool) as (...args: unknown[]) => Promise<unknown>;
    (dbB.pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args) => {
      if (String(args[0]).startsWith("SELECT value FROM records WHERE kind = $1 AND id = $2")) reads++;
      return query(...args);
    };
    const handled: string[] = [];
    const seenOnB: number[] = [];
    const listener = createChangeListener({
      url,
      handlers: {
        things: {
          changed: async (id, tag) => {
            const r = await storeB.refresh(id, tag);
            if (r) seenOnB.push(r.n);
            handled.push(id);
          },
          resync: async () => void (await storeB.reload()),
        },
      },
    });
    open.push(listener);
    await listener.ready;

    // Back to back, so later puts are committed before the earlier ones' notifications are handled.
    for (let n = 1; n <= 4; n++) await storeB.put({ id: "x", n });
    await until("B to handle its 4 notifications", 5_000, async () => handled.length === 4);
    expect(reads, "B read none of its own puts back").to.equal(0);
    expect(seenOnB).to.deep.equal([]);

    // Another process writes over B's version: B reads it.
    await storeA.refresh("x"); // A has no listener here: it reads B's version itself
    await storeA.put({ id: "x", n: 5 });
    await until("B to read A's write", 5_000, async () => storeB.get("x")?.n === 5);
    expect(reads).to.equal(1);
    expect(seenOnB).to.deep.equal([5]);

    // B's put, then A's on top before B handles B's notification: B ends with A's version.
    await storeB.put({ id: "x", n: 6 });
    await storeA.refresh("x");
    await storeA.put({ id: "x", n: 7 });
    await until("B to read A's later write", 5_000, async () => storeB.get("x")?.n === 7 && handled.length === 7);
    expect(reads).to.equal(2);

    // An untagged notification (a process of an earlier version) is read, as before.
    await dbA.pool.query("SELECT pg_notify($1, $2)", [RECORDS_CHANNEL, "things:x"]);
    await until("B to handle it", 5_000, async () => handled.length === 8);
    expect(reads).to.equal(3);
    expect(storeB.get("x")?.n).to.equal(7);
  });

  it("sessions: another process answers a session from memory only while it hears of sign-outs, and drops it when one comes", async () => {
    const url = await freshDatabase();
    const [dbA, dbB] = [await openDatabase(url, { max: 2 }), await openDatabase(url, { max: 2 })];
    open.push(dbA, dbB);
    const [onA, onB] = [await openPostgresSessionStore({ db: dbA }), await openPostgresSessionStore({ db: dbB })];
    const listener: ChangeListener = createChangeListener({
      url,
      firstRetryMs: 2_000, // long enough to act while it is down
      handlers: { sessions: onB.followChanges(() => listener.synced()) },
    });
    open.push(listener);
    await listener.ready;
    const now = Math.floor(Date.now() / 1000);
    const session = { address: `0x${"b".repeat(40)}` as const, chainId: 31337, issuedAt: now, expiresAt: now + 3600 };

    // B keeps what it read: a row deleted without a notification (not a sign-out) is still answered there.
    const kept = await onA.create(session);
    expect(await onB.get(kept)).to.deep.equal(session);
    await dbA.pool.query("DELETE FROM sessions");
    expect(await onB.get(kept), "answered from B's memory").to.deep.equal(session);
    expect(await onA.get(kept), "A never read it: from the database").to.equal(null);

    // A sign-out on A reaches B: refused there once the notification arrives.
    const signedOut = await onA.create(session);
    expect(await onB.get(signedOut)).to.deep.equal(session);
    const at = Date.now();
    await onA.revoke(signedOut);
    expect(await onA.get(signedOut)).to.equal(null);
    await until("B to refuse the session signed out on A", 2_000, async () => (await onB.get(signedOut)) === null);
    console.log(`      a sign-out on A refused on B ${Date.now() - at} ms after A answered it`);

    // A sign-out sent while B's LISTEN connection is down is not heard of: B reads the database while it
    // is down, and its memory from before is not used again (the reconnect's resync empties it).
    const missed = await onA.create(session);
    expect(await onB.get(missed)).to.deep.equal(session);
    await dbA.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    );
    await until("B's LISTEN to be cut", 2_000, async () => !listener.synced());
    await dbA.pool.query("DELETE FROM sessions"); // the notification of a sign-out now would be lost
    expect(await onB.get(missed), "not listening: from the database").to.equal(null);
    await until("B to listen again", 5_000, async () => listener.synced());
    expect(await onB.get(missed), "listening again: its memory from before is not used").to.equal(null);
  });
});
