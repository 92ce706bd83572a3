/**
 * A debtor's tier metrics counted in PostgreSQL (metrics/debtor-tier.ts over store/postgres/index-reader.ts
 * debtorCounts), as a reader process figures an advance, and counted by the same rules in memory
 * (debtorCountsIn), as an indexing process does, against the same metrics computed over the index in
 * memory (metrics/compute.ts), for every party at many instants: two hand-built histories
 * (metric-scenarios.ts) and random ones (fast-check) with split invoices paid on their children, orders
 * and invoices cancelled before and after the instant, invoices never acknowledged, written to a real
 * database (DATABASE_URL, or the embedded server of scripts/lib/test-postgres.ts).
 */
import { expect } from "chai";
import fc from "fast-check";
import { emptyIndexState, type Address, type IndexState } from "../../node-service/src/domain/entities";
import { computeSelectedMetricsAtUncached, metricSelection, type MetricSelection } from "../../node-service/src/metrics/compute";
import { METRIC_DEFINITIONS } from "../../node-service/src/metrics/definitions";
import { committedSelectedMetricsAt, selectedMetricsIn } from "../../node-service/src/metrics/debtor-tier";
import { openDatabase, type Database } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexReader, type PostgresIndexReader } from "../../node-service/src/store/postgres/index-reader";
import { createPostgresIndexStore } from "../../node-service/src/store/postgres/index-store";
import { STORE_VERSION, type IndexStore } from "../../node-service/src/store/index-store";
import { tierMetrics } from "../../node-service/src/underwriting/input";
import { CURRENT_POLICY } from "../../node-service/src/underwriting/policy";
import { addOrder, addReceivable, pay } from "../../scripts/lib/index-builders";
import { freshDatabase } from "../../scripts/lib/test-postgres";
import { A, B, C, E, L, book, d, scenario } from "./metric-scenarios";

/** Every window of the two metrics the database counts. */
const COUNTED = metricSelection(
  METRIC_DEFINITIONS.filter((m) => m.key === "purchaseCount" || m.key === "debtorOverdueRate").flatMap((m) =>
    m.windows.map((window) => ({ metric: m.key, window })),
  ),
);

describe("a debtor's tier metrics counted in the database (issue 17)", function () {
  this.timeout(300_000);
  let db: Database;
  let store: IndexStore;
  let reader: PostgresIndexReader;

  before(async () => {
    db = await openDatabase(await freshDatabase(), { max: 4 });
    store = await createPostgresIndexStore(db);
    reader = createPostgresIndexReader(db);
  });
  after(() => db?.close());

  /** Commits `state` as the whole index (the store replaces what it held). */
  async function commit(state: IndexState): Promise<void> {
    const identity = { chainId: 31337, genesisHash: `0x${"00".repeat(32)}` as const, startBlock: 0, contracts: {} };
    await store.save({ version: STORE_VERSION, identity, checkpoint: null, recentBlocks: [], undoFloor: 0, undo: [], state });
  }

  /** The selected metrics of `party` at `at`: counted in the database, counted in memory, and computed over the index in memory. */
  async function both(state: IndexState, party: Address, at: number, only: MetricSelection) {
    return {
      counted: await committedSelectedMetricsAt(reader.direct, party, at, only),
      countedInMemory: await selectedMetricsIn(state, party, at, only),
      computed: computeSelectedMetricsAtUncached(state, party, at, only).values,
    };
  }

  async function expectAgree(state: IndexState, parties: readonly Address[], instants: readonly number[], only = COUNTED) {
    for (const p of parties)
      for (const at of instants) {
        const { counted, countedInMemory, computed } = await both(state, p, at, only);
        expect(counted, `${p} at ${at}`).to.deep.equal(computed);
        expect(countedInMemory, `${p} at ${at}, in memory`).to.deep.equal(computed);
      }
  }

  const instants = (days: number[]) => days.flatMap((n) => [d(n) - 10 * 3600, d(n), d(n) + 14 * 3600 - 1]);

  it("gives every party's purchaseCount and debtorOverdueRate in every window as computed over the whole index, at every instant", async () => {
    const s = scenario();
    await commit(s);
    await expectAgree(s, [E, A, B, C, L], instants([-1, 0, 9, 10, 20, 30, 31, 40, 41, 45, 46, 50, 60, 120, 400]));
    // A owes r2 (split into r3 and r4, paid after maturity on the children) and r1 (paid on time): half late.
    expect((await both(s, A, d(60), COUNTED)).counted.debtorOverdueRate["365d"]).to.equal(0.5);
    const b = book();
    await commit(b);
    await expectAgree(b, [E, A, B, L], instants([0, 5, 10, 20, 25, 80, 100, 130, 150, 170, 175, 200, 380]));
  });

  it("counts an invoice paid in full by maturity through its split children as on time, and one short of it as late", async () => {
    const s = emptyIndexState();
    const split = (id: string, childPayments: number[][]) => {
      addOrder(s, { id, buyer: A, supplier: E, amount: 3000n, createdAt: d(0), deliveryDue: d(1) });
      const childIds = childPayments.map((_, i) => `${id}${i}`);
      addReceivable(s, {
        id,
        orderId: id,
        issuer: E,
        debtor: A,
        faceValue: 3000n,
        issuedAt: d(1),
        acknowledgedAt: d(1),
        maturity: d(30),
        childIds,
      });
      childPayments.forEach((days, i) =>
        addReceivable(s, {
          id: childIds[i],
          orderId: id,
          parentId: id,
          issuer: E,
          debtor: A,
          faceValue: 1500n,
          issuedAt: d(2),
          acknowledgedAt: d(1),
          maturity: d(30),
          payments: days.map((n) => pay(d(n), 1500n / BigInt(days.length), E)),
        }),
      );
    };
    split("1", [[10], [20, 30]]); // 1500 + 750 + 750 by maturity (the last at maturity itself): on time
    split("2", [[10], [20, 31]]); // 750 of it after maturity: late
    await commit(s);
    const { counted, countedInMemory, computed } = await both(s, A, d(40), COUNTED);
    expect(counted).to.deep.equal(computed);
    expect(countedInMemory).to.deep.equal(computed);
    expect(counted.debtorOverdueRate["30d"]).to.equal(0.5);
    expect(counted.purchaseCount["30d"]).to.equal(0); // created on day 0, more than 30 days before day 40
    expect(counted.purchaseCount["90d"]).to.equal(2);
  });

  it("agrees with the index in memory on random histories (fast-check)", async () => {
    const parties = [A, B, C, E];
    const payments = () => fc.array(fc.tuple(fc.integer({ min: -20, max: 20 }), fc.integer({ min: 1, max: 10 })), { maxLength: 3 });
    const invoice = fc.record({
      acknowledged: fc.boolean(),
      cancelAfter: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
      term: fc.integer({ min: 1, max: 60 }),
      // Payments as (day offset from maturity, share of the face in tenths): the invoice's own, or each
      // split child's (no children: not split).
      payments: payments(),
      children: fc.array(payments(), { maxLength: 3 }),
    });
    const order = fc.record({
      buyer: fc.integer({ min: 0, max: 3 }),
      supplierStep: fc.integer({ min: 1, max: 3 }),
      created: fc.integer({ min: 0, max: 400 }),
      cancelAfter: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
      invoice: fc.option(invoice, { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(order, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 480 }), { minLength: 1, maxLength: 4 }),
        async (orders, days) => {
          const s = emptyIndexState();
          let next = 1;
          for (const o of orders) {
            const id = String(next++);
            const buyer = parties[o.buyer];
            const supplier = parties[(o.buyer + o.supplierStep) % 4];
            const cancelledAt = o.cancelAfter === undefined ? undefined : d(o.created + o.cancelAfter);
            addOrder(s, { id, buyer, supplier, amount: 1000n, createdAt: d(o.created), deliveryDue: d(o.created + 5), cancelledAt });
            const inv = o.invoice;
            if (!inv) continue;
            const issuedAt = d(o.created + 1);
            const maturity = issuedAt + inv.term * 86_400;
            const base = {
              orderId: id,
              issuer: supplier,
              debtor: buyer,
              issuedAt,
              maturity,
              acknowledgedAt: inv.acknowledged ? issuedAt : undefined,
            };
            const cancelled = inv.cancelAfter === undefined ? {} : { cancelledAt: issuedAt + inv.cancelAfter * 86_400 };
            const paid = (list: [number, number][], face: bigint) =>
              list.map(([offset, tenths]) => pay(maturity + offset * 86_400, (face * BigInt(tenths)) / 10n, supplier));
            if (inv.children.length === 0) {
              addReceivable(s, { id, ...base, ...cancelled, faceValue: 1000n, payments: paid(inv.payments, 1000n) });
              continue;
            }
            const childIds = inv.children.map(() => String(next++));
            addReceivable(s, { id, ...base, ...cancelled, faceValue: 1000n, childIds });
            inv.children.forEach((list, i) =>
              addReceivable(s, {
                id: childIds[i],
                ...base,
                parentId: id,
                faceValue: 1000n / BigInt(childIds.length),
                payments: paid(list, 1000n / BigInt(childIds.length)),
              }),
            );
          }
          await commit(s);
          await expectAgree(s, parties, days.map(d));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("answers a tier that reads other metrics from the debtor's slice, with the same values", async () => {
    const s = scenario();
    await commit(s);
    const only = metricSelection(
      [...tierMetrics(CURRENT_POLICY).entries()]
        .flatMap(([metric, ws]) => ws.map((window) => ({ metric, window })))
        .concat([{ metric: "debtorPaybackCycleMean", window: "365d" }]),
    );
    await expectAgree(s, [E, A, C], instants([20, 46, 60]), only);
  });
});
