/**
 * What each commit of the index changed (index_changes, migration 008), and a reader's metrics kept
 * across commits that change none of the keys their enterprise's slice read (metrics/enterprise-reads.ts).
 * A reader read a large enterprise's slice again after every commit, also one that only carried other
 * enterprises' events: seconds per read at the head of a busy network.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import type { Address, IndexState, OrderEntity } from "../../node-service/src/domain/entities";
import { applyMutations, ChangeSet, push, put, type Mutation } from "../../node-service/src/domain/mutations";
import { toJsonSafe } from "../../node-service/src/domain/json";
import { computeMetrics, monthlySeries } from "../../node-service/src/metrics/compute";
import { committedEnterpriseReads } from "../../node-service/src/metrics/enterprise-reads";
import type { Checkpoint } from "../../node-service/src/store/index-store";
import type { Database } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexReader, type PostgresIndexReader } from "../../node-service/src/store/postgres/index-reader";
import { CHANGED_KEYS_NOTED, INDEX_CHANGES_KEPT } from "../../node-service/src/store/postgres/index-store";
import { freshPostgresIndex } from "../../scripts/lib/test-postgres-index";
import { party } from "../../scripts/lib/index-builders";

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

  async function freshIndex() {
    let block = 1;
    const checkpoint = (): Checkpoint => ({ blockNumber: block, blockHash: `0x${block.toString(16).padStart(64, "0")}` as Hex });
    const { db, store, state, doc } = await freshPostgresIndex({
      max: 3,
      checkpoint,
      seed: (s: IndexState) => {
        party(s, A, T0 - 30 * DAY);
        party(s, B, T0 - 30 * DAY);
      },
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

  it("answers an enterprise's metrics from what it kept while commits change none of the keys its slice read, and reads again when one does", async () => {
    const { db, state, commit, checkpoint } = await freshIndex();
    await commit([...newOrder(order("1", A, T0)), ...newOrder(order("2", B, T0))]);
    // Counts the keyed reads of each snapshot: a slice read shows as records and lists read.
    const inner = createPostgresIndexReader(db);
    let keyedReads = 0;
    let snapshots = 0;
    const counting: PostgresIndexReader = {
      ...inner,
      inSnapshot: (read) => {
        snapshots += 1;
        return inner.inSnapshot((r, meta) =>
          read(
            {
              ...r,
              records: (coll, keys) => ((keyedReads += 1), r.records(coll, keys)),
              lists: (coll, keys) => ((keyedReads += 1), r.lists(coll, keys)),
            },
            meta,
          ),
        );
      },
    };
    const reads = committedEnterpriseReads(counting, checkpoint);
    const asOf = T0 + 10 * DAY;
    const expectA = async (why: string, wantReads: boolean) => {
      const before = keyedReads;
      const snapshotsBefore = snapshots;
      const metrics = await reads.metrics(A, asOf);
      const series = await reads.series(A, asOf, 3);
      expect(toJsonSafe(metrics), why).to.deep.equal(toJsonSafe(computeMetrics(state, A, asOf)));
      expect(toJsonSafe(series), why).to.deep.equal(toJsonSafe(monthlySeries(state, A, asOf, 3)));
      expect(keyedReads > before, `${why}: the slice read again`).to.equal(wantReads);
      if (why === "no commit since") expect(snapshots, "no commit since: no database round trip").to.equal(snapshotsBefore);
      return metrics;
    };
    const first = await expectA("the first read", true);
    await expectA("no commit since", false);
    await commit(newOrder(order("3", B, T0 + DAY)));
    await expectA("a commit of another enterprise's order", false);
    // The buyer had no participant record when A's slice was read: its admission changes the slice too.
    await commit([put("participants", BUYER, { ...state.participants[A], address: BUYER, admittedAt: T0 - 400 * DAY, kycAttributes: [] })]);
    await expectA("the buyer admitted, a key the slice asked for and did not find", true);
    await expectA("no commit since", false);
    await commit(newOrder(order("4", A, T0 + 2 * DAY)));
    const after = await expectA("a new order of A", true);
    expect(toJsonSafe(after.values), "A's metrics moved").to.not.deep.equal(toJsonSafe(first.values));
    // A reader further behind than the commits kept cannot tell what changed: it reads again.
    for (let i = 0; i < INDEX_CHANGES_KEPT + 1; i++) await commit(newOrder(order(String(1_000 + i), B, T0 + i)));
    await expectA("more commits than are kept", true);
  });
});
