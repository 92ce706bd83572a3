/**
 * `npm run bench:backtest`: the back-test (policy in force and a candidate, every monthly case of
 * every supplier) over a 200-enterprise history of bench:decision's shape, built in memory with the
 * index's own record shapes: 150 suppliers x 4 buyers (of 40) x 10 monthly rounds (order, delivery,
 * completion, invoice, acknowledgment, payment; the last round unpaid), 8 lenders with 100 loans
 * repaid on time, late or defaulted, 2 auditors. Baseline in the same run: computing each case's
 * borrower metrics alone (uncached), the floor any back-test pays. Prints both, their ratio, and the
 * target (issue 15: under 10 s).
 */
import { emptyIndexState, type Address, type IndexState } from "../../node-service/src/domain/entities";
import { computeMetricsAtUncached } from "../../node-service/src/metrics/compute";
import { backtest, monthlyCases } from "../../node-service/src/underwriting/backtest";
import { CURRENT_POLICY, parsePolicy } from "../../node-service/src/underwriting/policy";
import { addLoan, addOrder, addReceivable, party, pay, ref, repayment } from "../lib/index-builders";

const SUPPLIERS = Number(process.env.BENCH_SUPPLIERS ?? 150);
const BUYERS = Number(process.env.BENCH_BUYERS ?? 40);
const LENDERS = 8;
const AUDITORS = 2;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const DAY = 86_400;
const T0 = Date.UTC(2030, 0, 1) / 1000;
const addr = (kind: number, i: number) => `0x${kind.toString(16).padStart(2, "0")}${i.toString(16).padStart(38, "0")}` as Address;

function history(): IndexState {
  const s = emptyIndexState();
  const suppliers = Array.from({ length: SUPPLIERS }, (_, i) => addr(1, i));
  const buyers = Array.from({ length: BUYERS }, (_, i) => addr(2, i));
  const lenders = Array.from({ length: LENDERS }, (_, i) => addr(4, i));
  for (const [i, p] of [...suppliers, ...buyers, ...lenders, ...Array.from({ length: AUDITORS }, (_, i) => addr(8, i))].entries())
    party(s, p, T0 - 30 * DAY + i);
  for (const p of suppliers) s.participants[p].roles = 1;
  let id = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const [si, sup] of suppliers.entries()) {
      for (let k = 0; k < 4; k++) {
        const buyer = buyers[(si + k * 7) % BUYERS];
        const t = T0 + r * 30 * DAY + si * 60 + k;
        const key = String(++id);
        addOrder(s, {
          id: key,
          buyer,
          supplier: sup,
          amount: 1_000_000n,
          createdAt: t,
          deliveryDue: t + 10 * DAY,
          acceptedAt: t + DAY,
          shippedAt: t + 3 * DAY,
          deliveredAt: t + 6 * DAY,
          completedAt: t + 7 * DAY,
          status: "Completed",
        });
        const issued = t + 7 * DAY;
        const maturity = issued + 30 * DAY;
        // The last round unpaid (collateral); suppliers 0 mod 10 are paid 20 days late; 0 mod 25 never after round 6.
        const unpaid = r === ROUNDS - 1 || (si % 25 === 0 && r >= 6);
        const paidAt = si % 10 === 0 ? maturity + 20 * DAY : maturity - 2 * DAY;
        addReceivable(s, {
          id: key,
          orderId: key,
          issuer: sup,
          debtor: buyer,
          faceValue: 1_000_000n,
          issuedAt: issued,
          acknowledgedAt: issued + 3600,
          maturity,
          status: unpaid ? "Confirmed" : "Paid",
          payments: unpaid ? [] : [pay(paidAt, 1_000_000n, sup)],
          paidAt: unpaid ? undefined : paidAt,
          events: [
            ref("Receivables", "ReceivableIssued", issued),
            ref("Receivables", "Transfer", issued),
            ref("Receivables", "ReceivableAcknowledged", issued + 3600),
          ],
        });
      }
    }
  }
  // 100 loans in round 5: on time, late (suppliers 0 mod 10) or defaulted (0 mod 25).
  for (let si = 0; si < Math.min(100, SUPPLIERS); si++) {
    const start = T0 + 5 * 30 * DAY + si * 60;
    const maturity = start + 60 * DAY;
    const base = {
      id: String(si + 1),
      borrower: suppliers[si],
      lender: lenders[si % LENDERS],
      totalDue: 2_000_000n,
      maturity,
      recordedAt: start,
      disbursedAt: start + 60,
    };
    if (si % 25 === 0) addLoan(s, { ...base, status: "Defaulted", defaultedAt: maturity + 10 * DAY });
    else
      addLoan(s, {
        ...base,
        status: "Repaid",
        repayments: [repayment(si % 10 === 0 ? maturity + 15 * DAY : maturity - DAY, 2_000_000n)],
        closedAt: maturity,
      });
  }
  return s;
}

function main(): void {
  const tBuild = performance.now();
  const state = history();
  const enterprises = Object.keys(state.participants).length;
  console.log(
    `bench:backtest — ${enterprises} enterprises, ${Object.keys(state.orders).length} orders, ${Object.keys(state.receivables).length} receivables, ${Object.keys(state.loans).length} loans (built in ${((performance.now() - tBuild) / 1000).toFixed(1)} s)`,
  );
  const suppliers = Object.values(state.participants)
    .filter((p) => p.roles === 1)
    .map((p) => p.address);
  const from = Date.UTC(2030, 0, 1) / 1000;
  const to = from + (ROUNDS + 3) * 30 * DAY;
  const candidate = parsePolicy({ ...CURRENT_POLICY, version: "v1-candidate", thresholds: { approveMin: 60, declineBelow: 40 } });

  // Baseline: each case's borrower metrics, uncached.
  const cases = monthlyCases(state, suppliers, { from, to, termDays: 30, lender: addr(4, 0) });
  const tBase = performance.now();
  for (const c of cases) computeMetricsAtUncached(state, c.borrower, c.asOf);
  const baseMs = performance.now() - tBase;

  const tRun = performance.now();
  const run = backtest(
    state,
    monthlyCases(state, suppliers, { from, to, termDays: 30, lender: addr(4, 0) }),
    [
      { policy: CURRENT_POLICY, inForce: true },
      { policy: candidate, inForce: false },
    ],
    to,
  );
  const runMs = performance.now() - tRun;

  console.log(`cases: ${run.cases.monthly} monthly (${suppliers.length} suppliers, month ends over ${ROUNDS + 3} months), 2 policies`);
  for (const p of run.policies)
    console.log(
      `  ${p.version}${p.inForce ? " (in force)" : ""}: approved ${p.total.approved} of ${p.total.cases}, bad debt ${p.total.badDebtRate}`,
    );
  console.log(`baseline (borrower metrics per case, once): ${(baseMs / 1000).toFixed(2)} s`);
  console.log(
    `back-test (cases, flags, debtor tiers, both policies, outcomes): ${(runMs / 1000).toFixed(2)} s = ${(runMs / baseMs).toFixed(2)}x baseline; target < 10 s: ${runMs < 10_000 ? "met" : "MISSED"}`,
  );
}

main();
