/**
 * `npm run bench:metrics`: what one enterprise's metrics cost when it holds a bulk of receivables.
 *
 * Builds in memory, as the reducers shape the records (scripts/lib/index-builders.ts does the same for
 * the tests), a supplier that sold BENCH_ORIGINALS (1,000) orders to one anchor buyer, each invoiced,
 * acknowledged and split into BENCH_PIECES (160) pieces it still holds, a third of them partly paid
 * after maturity, maturities spread over seven months: 161,000 receivables, as bench:reader's bulk
 * supplier. Then, BENCH_ROUNDS (9) times each, alternating: every metric of the supplier and of the buyer
 * at one instant (computeMetricsAtUncached, what a decision or quote pays without the memo), and the
 * baseline of the same run: one bare pass looking up each of the supplier's receivables in the index
 * (the least any computation over its records pays). Prints medians and the ratio to the baseline.
 */
import os from "node:os";
import { emptyIndexState, type Address, type EventRef, type ReceivableEntity } from "../../node-service/src/domain/entities";
import { computeMetricsAtUncached } from "../../node-service/src/metrics/compute";

const ORIGINALS = Number(process.env.BENCH_ORIGINALS ?? 1000);
const PIECES = Number(process.env.BENCH_PIECES ?? 160);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const DAY = 86_400;
const T0 = 1_700_000_000;
const SUPPLIER = "0x00000000000000000000000000000000000000a1" as Address;
const BUYER = "0x00000000000000000000000000000000000000b2" as Address;

let logIndex = 0;
const ref = (contract: string, event: string, at: number): EventRef => ({
  contract,
  event,
  blockNumber: 0,
  blockHash: "0x00",
  txHash: "0x00",
  logIndex: logIndex++,
  at,
});

function bulkSupplierIndex() {
  const s = emptyIndexState();
  for (const [address, roles] of [
    [SUPPLIER, 2],
    [BUYER, 1],
  ] as const)
    s.participants[address] = { address, roles, admittedAt: T0 - DAY, kycAttributes: [] } as never;
  const mine = (s.receivablesByParty[SUPPLIER] = [] as string[]);
  const owed = (s.receivablesByParty[BUYER] = [] as string[]);
  let id = 0;
  for (let o = 0; o < ORIGINALS; o++) {
    const orderId = String(o + 1);
    const at = T0 + o * 600;
    s.orders[orderId] = {
      id: orderId,
      buyer: BUYER,
      supplier: SUPPLIER,
      amount: 1000n * BigInt(PIECES),
      createdAt: at,
      deliveryDue: at + 30 * DAY,
      deliveredAt: at + 5 * DAY,
      completedAt: at + 6 * DAY,
      documentHash: "0x00",
      status: "Completed",
      disputes: [],
      events: [],
    } as never;
    (s.ordersByParty[SUPPLIER] ??= []).push(orderId);
    (s.ordersByParty[BUYER] ??= []).push(orderId);
    const maturity = at + (60 + (o % 7) * 30) * DAY;
    const issuedAt = at + 6 * DAY;
    const rootId = String(++id);
    const childIds = Array.from({ length: PIECES }, () => String(++id));
    const root: ReceivableEntity = {
      id: rootId,
      orderId,
      issuer: SUPPLIER,
      debtor: BUYER,
      holder: SUPPLIER,
      faceValue: 1000n * BigInt(PIECES),
      paid: 0n,
      maturity,
      invoiceHash: "0x00",
      issuedAt,
      status: "Split",
      acknowledgedAt: issuedAt + 60,
      childIds,
      holders: [SUPPLIER],
      payments: [],
      events: [
        ref("Receivables", "Transfer", issuedAt),
        ref("Receivables", "ReceivableAcknowledged", issuedAt + 60),
        ref("Receivables", "ReceivableSplit", issuedAt + 120),
        ref("Receivables", "Transfer", issuedAt + 120),
      ],
    };
    s.receivables[rootId] = root;
    mine.push(rootId);
    owed.push(rootId);
    childIds.forEach((childId, k) => {
      const paidAt = maturity + k * 3600;
      s.receivables[childId] = {
        ...root,
        id: childId,
        faceValue: 1000n,
        issuedAt: issuedAt + 120,
        acknowledgedAt: issuedAt + 120,
        status: "Confirmed",
        parentId: rootId,
        childIds: undefined,
        payments:
          k % 3 === 0
            ? [{ at: paidAt, amount: 400n, toLoan: 0n, holder: SUPPLIER, ref: ref("Receivables", "ReceivablePaid", paidAt) }]
            : [],
        events: [ref("Receivables", "Transfer", issuedAt + 120)],
      };
      mine.push(childId);
      owed.push(childId);
    });
  }
  s.eventCount = logIndex;
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main() {
  const built = performance.now();
  const state = bulkSupplierIndex();
  const at = T0 + 300 * DAY;
  console.log(
    `bench:metrics: a supplier holding ${state.receivablesByParty[SUPPLIER].length.toLocaleString("en")} receivables ` +
      `(${ORIGINALS} invoices x ${PIECES} pieces) owed by one buyer, built in ${((performance.now() - built) / 1000).toFixed(1)} s; ` +
      `${ROUNDS} rounds, alternating; Node ${process.version}, load average ${os.loadavg()[0].toFixed(2)}`,
  );
  const times = { baseline: [] as number[], supplier: [] as number[], buyer: [] as number[] };
  let found = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    found = 0;
    for (const id of state.receivablesByParty[SUPPLIER]) if (state.receivables[id]!.issuedAt <= at) found++;
    times.baseline.push(performance.now() - t);
    t = performance.now();
    computeMetricsAtUncached(state, SUPPLIER, at);
    times.supplier.push(performance.now() - t);
    t = performance.now();
    computeMetricsAtUncached(state, BUYER, at);
    times.buyer.push(performance.now() - t);
  }
  const base = median(times.baseline);
  console.log(`  baseline, a bare pass over the supplier's ${found.toLocaleString("en")} receivables: median ${base.toFixed(1)} ms`);
  for (const who of ["supplier", "buyer"] as const)
    console.log(
      `  every metric of the ${who}: median ${median(times[who]).toFixed(1)} ms (min ${Math.min(...times[who]).toFixed(1)}, ` +
        `max ${Math.max(...times[who]).toFixed(1)}), ${(median(times[who]) / base).toFixed(1)}x the baseline`,
    );
}

main();
