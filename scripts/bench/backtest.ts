/**
 * `npm run bench:backtest`: the back-test (policy in force and a candidate, every monthly case of
 * every supplier) over a 200-enterprise history of bench:decision's shape, built in memory with the
 * index's own record shapes: 150 suppliers x 4 buyers (of 40) x 10 monthly rounds (order, delivery,
 * completion, invoice, acknowledgment, payment; the last round unpaid), 8 lenders with 100 loans
 * repaid on time, late or defaulted, 2 auditors. Baseline in the same run: computing each case's
 * borrower metrics alone (uncached), the floor any back-test pays. Prints both, their ratio, and the
 * target (issue 15: under 10 s).
 *
 * Then the same over the demo history (BENCH_DEMO=0 skips it): `hardhat node` on 127.0.0.1 and a free
 * port, the contracts deployed and scripts/seed.ts's year of trade with loans of every outcome, indexed
 * by the service's own indexer; every monthly case of every supplier over the year, the policy in force
 * beside a candidate, with the same baseline, and the comparison table per score band.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { ROLE } from "../../node-service/src/chain/eip712";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import { toMajor } from "../../node-service/src/domain/money";
import { deployContracts, startHardhatNode } from "../lib/chain-helpers";
import { seedDemo, type SeedDemoOptions } from "../seed";
import { emptyIndexState, type Address, type IndexState } from "../../node-service/src/domain/entities";
import { computeMetricsAtUncached } from "../../node-service/src/metrics/compute";
import { backtest, monthlyCases, monthlyCasesOn } from "../../node-service/src/underwriting/backtest";
import { inMemoryApplicationIndex } from "../../node-service/src/underwriting/application-index";
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

/** The back-test and its baseline over one history; returns the back-test's milliseconds. */
async function timeBacktest(state: IndexState, suppliers: Address[], lender: Address, from: number, to: number) {
  const candidate = parsePolicy({ ...CURRENT_POLICY, version: "v1-candidate", thresholds: { approveMin: 60, declineBelow: 40 } });
  const cases = monthlyCases(state, suppliers, { from, to, termDays: 30, lender });
  const tBase = performance.now();
  for (const c of cases) computeMetricsAtUncached(state, c.borrower, c.asOf);
  const baseMs = performance.now() - tBase;
  const tRun = performance.now();
  const run = await inMemoryApplicationIndex(
    () => state,
    CURRENT_POLICY,
  )(async (index) =>
    backtest(
      index,
      await monthlyCasesOn(index, suppliers, { from, to, termDays: 30, lender }),
      [
        { policy: CURRENT_POLICY, inForce: true },
        { policy: candidate, inForce: false },
      ],
      to,
    ),
  );
  return { run, baseMs, runMs: performance.now() - tRun };
}

async function demo(): Promise<void> {
  const node = await startHardhatNode();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "bench-backtest-demo-"));
  try {
    const deployment = await deployContracts(node.publicClient, node.wallets[0]);
    const tSeed = performance.now();
    const seeded = await seedDemo({
      publicClient: node.publicClient,
      walletClients: node.wallets as SeedDemoOptions["walletClients"],
      deployment,
      seed: 1,
    });
    const indexer = await createIndexer({ publicClient: node.publicClient, deployment, dataDir, logger: pino({ level: "warn" }) });
    await indexer.syncOnce();
    const state = indexer.state();
    await indexer.stop();
    const loans = Object.values(state.loans);
    const byStatus = loans.reduce<Record<string, number>>((m, l) => ({ ...m, [l.status]: (m[l.status] ?? 0) + 1 }), {});
    console.log(
      `\ndemo history (scripts/seed.ts, seed 1): ${Object.keys(state.participants).length} participants, ${Object.keys(state.orders).length} orders, ${Object.keys(state.receivables).length} receivables, ${loans.length} loans (${Object.entries(
        byStatus,
      )
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")}); seeded and indexed in ${((performance.now() - tSeed) / 1000).toFixed(1)} s`,
    );
    const suppliers = Object.values(state.participants)
      .filter((p) => (p.roles & ROLE.SUPPLIER) !== 0)
      .map((p) => p.address)
      .sort();
    const lender = seeded.demoAccounts.accounts.find((a) => a.persona === "lender")!.address.toLowerCase() as Address;
    const to = Number((await node.publicClient.getBlock({ blockTag: "latest" })).timestamp);
    const from = to - 365 * DAY;
    const { run, baseMs, runMs } = await timeBacktest(state, suppliers, lender, from, to);
    console.log(`cases: ${run.cases.monthly} monthly (${suppliers.length} suppliers, month ends over the year), 2 policies`);
    for (const p of run.policies) {
      console.log(`  ${p.version}${p.inForce ? " (in force)" : ""}`);
      console.log("    band    cases approved  approved CNY  on time  late  defaulted  open  bad debt");
      for (const r of [...p.bands, p.total])
        console.log(
          `    ${r.band.padEnd(6)} ${String(r.cases).padStart(6)} ${String(r.approved).padStart(8)} ${toMajor(r.approvedAmount).padStart(13)} ${String(r.outcomes.on_time).padStart(8)} ${String(r.outcomes.late).padStart(5)} ${String(r.outcomes.defaulted).padStart(10)} ${String(r.outcomes.open).padStart(5)} ${r.badDebtRate === null ? "-" : `${(r.badDebtRate * 100).toFixed(1)}%`}`,
        );
    }
    console.log(`baseline (borrower metrics per case, once): ${(baseMs / 1000).toFixed(2)} s`);
    console.log(
      `back-test over the demo history: ${(runMs / 1000).toFixed(2)} s = ${(runMs / baseMs).toFixed(2)}x baseline; target < 10 s: ${runMs < 10_000 ? "met" : "MISSED"}`,
    );
  } finally {
    await node.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
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
  const { run, baseMs, runMs } = await timeBacktest(state, suppliers, addr(4, 0), from, to);

  console.log(`cases: ${run.cases.monthly} monthly (${suppliers.length} suppliers, month ends over ${ROUNDS + 3} months), 2 policies`);
  for (const p of run.policies)
    console.log(
      `  ${p.version}${p.inForce ? " (in force)" : ""}: approved ${p.total.approved} of ${p.total.cases}, bad debt ${p.total.badDebtRate}`,
    );
  console.log(`baseline (borrower metrics per case, once): ${(baseMs / 1000).toFixed(2)} s`);
  console.log(
    `back-test (cases, flags, debtor tiers, both policies, outcomes): ${(runMs / 1000).toFixed(2)} s = ${(runMs / baseMs).toFixed(2)}x baseline; target < 10 s: ${runMs < 10_000 ? "met" : "MISSED"}`,
  );
  if (process.env.BENCH_DEMO !== "0") await demo();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
