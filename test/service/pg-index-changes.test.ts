/**
 * What each commit of the index changed (index_changes, migration 008), and a reader's metrics kept
 * across commits that change none of the keys their enterprise's slice read (metrics/enterprise-reads.ts).
 * A reader read a large enterprise's slice again after every commit, also one that only carried other
 * enterprises' events: seconds per read at the head of a busy network.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import fc from "fast-check";
import type { Address, IndexState, OrderEntity } from "../../node-service/src/domain/entities";
import { applyMutations, ChangeSet, push, put, type Mutation } from "../../node-service/src/domain/mutations";
import { toJsonSafe } from "../../node-service/src/domain/json";
import { computeMetrics, computeMetricsAt, monthlySeries } from "../../node-service/src/metrics/compute";
import { committedEnterpriseReads, type EnterpriseReads } from "../../node-service/src/metrics/enterprise-reads";
import type { Checkpoint } from "../../node-service/src/store/index-store";
import { committedApplicationIndex, type WithApplicationIndex } from "../../node-service/src/underwriting/application-index";
import { CURRENT_POLICY } from "../../node-service/src/underwriting/policy";
import type { Database } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexReader, type PostgresIndexReader } from "../../node-service/src/store/postgres/index-reader";
import { CHANGED_KEYS_NOTED, INDEX_CHANGES_KEPT } from "../../node-service/src/store/postgres/index-store";
import { freshPostgresIndex } from "../../scripts/lib/test-postgres-index";
import { party } from "../../scripts/lib/index-builders";
import { CHANGED_PARTIES, INDEX_CHANGE, indexChanges } from "./index-changes";
import * as S from "./metric-scenarios";

const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const [A, B, BUYER] = [addr(0xa1), addr(0xb1), addr(0xd1)];
const T0 = 1_800_000_000;
const DAY = 86_400;

function order(id: string, supplier: Address, createdAt: number): OrderEntity {
  return {
    id,
    buyer: BUYER,
    supplier,
    amount: 1_000n * BigInt(id.length + 1),
    createdAt,
    deliveryDue: createdAt + DAY,
    deliveredAt: createdAt + 3_600,
    status: "Delivered",
    documentHash: "0x00",
    disputes: [],
    events: [],
  } as OrderEntity;
}

/** The mutations of a new order: the record and its place in both parties' lists. */
const newOrder = (o: OrderEntity): Mutation[] => [
  put("orders", o.id, o),
  push("ordersByParty", o.supplier, o.id),
  push("ordersByParty", o.buyer, o.id),
];

describe("the keys each commit changed, and a reader's metrics kept across other enterprises' commits", function () {
  this.timeout(120_000);
  const dbs: Database[] = [];
  after(async () => {
    for (const db of dbs.splice(0)) await db.close();
  });

  async function freshIndex(seed?: (s: IndexState) => void) {
    let block = 1;
    const checkpoint = (): Checkpoint => ({ blockNumber: block, blockHash: `0x${block.toString(16).padStart(64, "0")}` as Hex });
    const { db, store, state, doc } = await freshPostgresIndex({
      max: 3,
      checkpoint,
      seed:
        seed ??
        ((s: IndexState) => {
          party(s, A, T0 - 30 * DAY);
          party(s, B, T0 - 30 * DAY);
        }),
    });
    dbs.push(db);
    /** One commit of `mutations` at the next block. */
    const commit = async (mutations: Mutation[]) => {
      const changes = new ChangeSet();
      applyMutations(state, mutations, undefined, changes);
      block += 1;
      await store.save(doc(), changes);
    };
    return { db, state, commit, checkpoint };
  }

  it("notes each commit's changed keys under its number, a whole rewrite as such, and keeps the last commits only", async () => {
    const { db, commit } = await freshIndex();
    const reader = createPostgresIndexReader(db);
    await commit(newOrder(order("1", A, T0)));
    const rows = async () =>
      (
        await db.pool.query<{ seq: string; whole: boolean; changed: string[] }>(
          "SELECT seq, whole, changed FROM index_changes ORDER BY seq",
        )
      ).rows;
    expect(await rows()).to.deep.equal([
      { seq: "1", whole: true, changed: [] },
      { seq: "2", whole: false, changed: ["orders/1", `ordersByParty/${A}`, `ordersByParty/${BUYER}`] },
    ]);
    expect((await reader.meta()).commitSeq).to.equal(2);
    const { value } = await reader.inSnapshot(async (r, meta) => ({
      fromSecond: await r.changedSince(1, meta.commitSeq),
      none: await r.changedSince(2, meta.commitSeq),
      throughTheRewrite: await r.changedSince(0, meta.commitSeq),
    }));
    expect([...value.fromSecond!].sort()).to.deep.equal(["orders/1", `ordersByParty/${A}`, `ordersByParty/${BUYER}`].sort());
    expect([...value.none!]).to.deep.equal([]);
    expect(value.throughTheRewrite, "a whole rewrite changed everything").to.equal(null);
    // Past INDEX_CHANGES_KEPT commits the oldest are dropped: a reader that far behind cannot tell what changed.
    for (let i = 0; i < INDEX_CHANGES_KEPT; i++) await commit(newOrder(order(String(100 + i), B, T0 + i)));
    const kept = await rows();
    expect(kept).to.have.length(INDEX_CHANGES_KEPT);
    expect(kept[0].seq, "commits 1 and 2 dropped").to.equal("3");
    const seq = (await reader.meta()).commitSeq;
    expect(seq).to.equal(2 + INDEX_CHANGES_KEPT);
    expect((await reader.direct.changedSince(2, seq))!.size, "commits 3 .. the last: their orders and two lists").to.equal(
      INDEX_CHANGES_KEPT + 2,
    );
    expect(await reader.direct.changedSince(1, seq), "commit 2 no longer kept").to.equal(null);
    // A commit of more keys than CHANGED_KEYS_NOTED (catching up) is noted as a whole rewrite.
    await commit(Array.from({ length: CHANGED_KEYS_NOTED }, (_, i) => newOrder(order(String(10_000 + i), B, T0))).flat());
    expect((await rows()).at(-1)).to.deep.equal({ seq: String(seq + 1), whole: true, changed: [] });
    expect(await reader.direct.changedSince(seq, seq + 1)).to.equal(null);
  });

  /** committedEnterpriseReads over `db`, counting snapshots and the keys read by key on them. */
  function countedReads(db: Database, checkpoint: () => Checkpoint, keptKeys: number) {
    const inner = createPostgresIndexReader(db);
    const count = { snapshots: 0, keys: 0 };
    const counting: PostgresIndexReader = {
      ...inner,
      inSnapshot: (read) => {
        count.snapshots += 1;
        return inner.inSnapshot((r, meta) =>
          read(
            {
              ...r,
              records: (coll, keys) => ((count.keys += keys.length), r.records(coll, keys)),
              lists: (coll, keys) => ((count.keys += keys.length), r.lists(coll, keys)),
            },
            meta,
          ),
        );
      },
    };
    return { reads: committedEnterpriseReads(counting, checkpoint, { keptKeys }), count, counting };
  }

  /**
   * Reads A's metrics and series as of `asOf` at once (as the web's dashboard asks them), checks them
   * against the index in memory, and returns how many keys were read by key.
   */
  async function readA(reads: EnterpriseReads, count: { keys: number }, state: IndexState, asOf: number, why: string) {
    const before = count.keys;
    const [metrics, series] = await Promise.all([reads.metrics(A, asOf), reads.series(A, asOf, 3)]);
    expect(toJsonSafe(metrics), why).to.deep.equal(toJsonSafe(computeMetrics(state, A, asOf)));
    expect(toJsonSafe(series), why).to.deep.equal(toJsonSafe(monthlySeries(state, A, asOf, 3)));
    return { metrics, keysRead: count.keys - before };
  }

  for (const kept of [
    { keptKeys: 0, what: "keeping no records: reads the whole slice again when one does" },
    { keptKeys: 1_000, what: "keeping the slice's records: reads again only the keys that changed" },
  ])
    it(`answers an enterprise's metrics from what it kept while commits change none of the keys its slice read; ${kept.what}`, async () => {
      const { db, state, commit, checkpoint } = await freshIndex();
      await commit([...newOrder(order("1", A, T0)), ...newOrder(order("2", B, T0))]);
      const { reads, count } = countedReads(db, checkpoint, kept.keptKeys);
      const asOf = T0 + 10 * DAY;
      const recordsKept = kept.keptKeys > 0;
      const step = async (why: string, keysRead: number, day = asOf) => {
        const snapshots = count.snapshots;
        const read = await readA(reads, count, state, day, why);
        expect(read.keysRead, `${why}: keys read`).to.equal(keysRead);
        if (why.startsWith("no commit since")) expect(count.snapshots, `${why}: no database round trip`).to.equal(snapshots);
        return read;
      };
      const first = await readA(reads, count, state, asOf, "the first read");
      // Its lists (3), its order, itself and its buyer.
      const slice = first.keysRead;
      expect(slice).to.equal(6);
      await step("no commit since", 0);
      const snapshots = count.snapshots;
      await step("another day", recordsKept ? 0 : slice, asOf + DAY);
      expect(count.snapshots - snapshots, "another day: a database round trip unless the records are kept").to.equal(recordsKept ? 0 : 1);
      await commit(newOrder(order("3", B, T0 + DAY)));
      await step("a commit of another enterprise's order", 0);
      // The buyer had no participant record when A's slice was read: its admission changes the slice too.
      await commit([
        put("participants", BUYER, { ...state.participants[A], address: BUYER, admittedAt: T0 - 400 * DAY, kycAttributes: [] }),
      ]);
      await step("the buyer admitted, a key the slice asked for and did not find", recordsKept ? 1 : slice);
      await step("no commit since", 0);
      await commit(newOrder(order("4", A, T0 + 2 * DAY)));
      // Kept: A's list of orders and the new order (the other order, A and its buyer unchanged).
      const after = await step("a new order of A", recordsKept ? 2 : slice + 1);
      expect(toJsonSafe(after.metrics.values), "A's metrics moved").to.not.deep.equal(toJsonSafe(first.metrics.values));
      // A reader further behind than the commits kept cannot tell what changed: it reads again.
      for (let i = 0; i < INDEX_CHANGES_KEPT + 1; i++) await commit(newOrder(order(String(1_000 + i), B, T0 + i)));
      await step("more commits than are kept", slice + 1);
    });

  it("lends the slices it keeps to a decision's input read on demand on the same snapshot: only the keys commits changed are read again", async () => {
    const { db, state, commit, checkpoint } = await freshIndex();
    await commit([...newOrder(order("1", A, T0)), ...newOrder(order("2", B, T0))]);
    const { reads, count, counting } = countedReads(db, checkpoint, 1_000);
    const asOf = T0 + 10 * DAY;
    /** A's metrics at `asOf` as a quote's or decision's input reads them on a reader (the slice at once, then a run on demand): keys read. */
    const onDemand = async (withIndex: WithApplicationIndex, why: string) => {
      const before = count.keys;
      const [metrics, values] = await withIndex(async (index) => {
        await index.prefetchSlice(A);
        return Promise.all([index.run((s) => computeMetricsAt(s, A, asOf)), index.metricsAt(A, asOf)]);
      });
      expect(toJsonSafe(metrics), why).to.deep.equal(toJsonSafe(computeMetricsAt(state, A, asOf)));
      // The same figures over the lent slice's own records (or a run on demand, with nothing lent).
      expect(toJsonSafe(values), why).to.deep.equal(toJsonSafe(metrics.values));
      return count.keys - before;
    };
    const lent = committedApplicationIndex(counting, CURRENT_POLICY, reads);
    const alone = committedApplicationIndex(counting, CURRENT_POLICY);
    expect(await onDemand(alone, "nothing lent"), "the whole slice").to.equal(6);
    expect(await onDemand(lent, "nothing kept yet"), "the whole slice").to.equal(6);
    expect(await onDemand(lent, "kept by the read before"), "nothing").to.equal(0);
    expect((await readA(reads, count, state, asOf, "the dashboard after the input")).keysRead, "the same slice kept for both").to.equal(0);
    await commit(newOrder(order("3", B, T0 + DAY)));
    expect(await onDemand(lent, "after another enterprise's commit"), "nothing").to.equal(0);
    await commit(newOrder(order("4", A, T0 + 2 * DAY)));
    expect(await onDemand(lent, "after a new order of A"), "A's list of orders and the new order").to.equal(2);
    expect(await onDemand(alone, "nothing lent, after the new order"), "the whole slice").to.equal(7);
    expect((await readA(reads, count, state, asOf, "the dashboard after the new order")).keysRead).to.equal(0);
  });

  it("keeps the records of the enterprises read last within its budget of keys, and none of a slice larger than it", async () => {
    const { db, state, commit, checkpoint } = await freshIndex();
    await commit([...newOrder(order("1", A, T0)), ...newOrder(order("2", B, T0))]);
    const asOf = T0 + 10 * DAY;
    // Each slice reads 6 keys (see above): a budget of 8 holds one of them.
    const { reads, count } = countedReads(db, checkpoint, 8);
    expect((await readA(reads, count, state, asOf, "A first")).keysRead).to.equal(6);
    await commit(newOrder(order("3", B, T0 + DAY)));
    expect((await readA(reads, count, state, asOf, "A kept with its records")).keysRead).to.equal(0);
    await reads.metrics(B, asOf);
    await commit(newOrder(order("4", A, T0 + 2 * DAY)));
    expect((await readA(reads, count, state, asOf, "A's records gave way to B's")).keysRead, "the whole slice").to.equal(7);
    // A budget below one slice keeps no records: every change reads the slice again.
    const small = countedReads(db, checkpoint, 5);
    await readA(small.reads, small.count, state, asOf, "A first, on a budget of 5");
    await commit(newOrder(order("5", A, T0 + 3 * DAY)));
    expect((await readA(small.reads, small.count, state, asOf, "a new order of A")).keysRead).to.equal(8);
  });

  it("gives, over a slice patched with the changed keys, what a fresh read gives, and what the index in memory gives, on random changes to a history (fast-check)", async () => {
    // A step: some changes in one commit, then reads of some parties' metrics and series.
    const step = fc.record({
      changes: fc.array(INDEX_CHANGE, { minLength: 1, maxLength: 3 }),
      reads: fc.uniqueArray(fc.nat({ max: CHANGED_PARTIES.length - 1 }), { maxLength: 3 }),
      // A few days only, so that later steps ask what is kept.
      asOf: fc.constantFrom(0, 30, 59, 120),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const { db, state, commit, checkpoint } = await freshIndex((s) => Object.assign(s, S.scenario()));
        const reader = createPostgresIndexReader(db);
        const patched = committedEnterpriseReads(reader, checkpoint, { keptKeys: 1_000_000 });
        const changesOf = indexChanges(state);
        try {
          for (const { changes, reads, asOf } of steps) {
            await commit(changes.flatMap(changesOf));
            for (const party of reads.map((i) => CHANGED_PARTIES[i])) {
              const at = S.d(asOf);
              const fresh = committedEnterpriseReads(reader, checkpoint, { keptKeys: 0 });
              const [m, series, freshM, freshSeries] = await Promise.all([
                patched.metrics(party, at),
                patched.series(party, at, 4),
                fresh.metrics(party, at),
                fresh.series(party, at, 4),
              ]);
              expect(toJsonSafe(m), `${party}: patched and fresh`).to.deep.equal(toJsonSafe(freshM));
              expect(toJsonSafe(series), `${party}: patched and fresh`).to.deep.equal(toJsonSafe(freshSeries));
              expect(toJsonSafe(m), `${party}: patched and in memory`).to.deep.equal(toJsonSafe(computeMetrics(state, party, at)));
            }
          }
        } finally {
          await db.close();
          dbs.splice(dbs.indexOf(db), 1);
        }
      }),
      { numRuns: 25 },
    );
  });
});
