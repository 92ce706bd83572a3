/**
 * THE hand-checked trade history: real contracts on the Hardhat network, every transaction at a
 * chosen block time, indexed by the real indexer, then every metric asserted against values worked
 * out by hand below. The chain is snapshotted before and reverted after, so the clock jump to year Y
 * does not leak into other test files.
 *
 * Cast: S, the enterprise (supplier and buyer, the borrower), admitted Y-1 Apr 1 10:00; buyers B1, B2,
 * B3 (B3 shares a KYC attribute with S: a related party); S2, S's own supplier; L, the lender (grace
 * period 5 days). Y is a non-leap year after the chain's current time (so February
 * has 28 days and the figures below hold for any such Y). Every event is at 10:00 UTC on its day; two
 * transactions on one day are one second apart (that shifts no figure at 2 decimals).
 *
 * Sales orders of S (supplier), "due" is deliveryDue:
 *   O1  B1  50,000  created Y-1 May 10, due May 30; accepted May 11, shipped May 15, delivered May 20, completed May 21
 *   O2  B1 100,000  created Jan 10, due Jan 31; acc Jan 11, ship Jan 20, delivered Jan 25, completed Jan 26
 *   O3  B2  40,000  created Feb 5,  due Feb 20; acc Feb 6,  ship Feb 18, delivered Feb 24 (LATE), completed Feb 25
 *   O4  B1  80,000  created Mar 1,  due Mar 20; acc Mar 2,  ship Mar 10, delivered Mar 15, completed Mar 16
 *   O5  B3  20,000  created Mar 20, due Apr 10; CANCELLED by S Mar 22
 *   O6  B2  60,000  created Apr 5,  due Apr 25; acc Apr 6,  ship Apr 15, delivered Apr 20, DISPUTED Apr 22, resolved May 2, completed May 3
 *   O7  B1 120,000  created Apr 20, due May 10; acc Apr 21, ship May 1,  delivered May 12 (LATE), completed May 13
 *   O8  B3  30,000  created May 5,  due May 25; acc May 6,  ship May 10, delivered May 20, completed May 21
 *   O9  B2  50,000  created May 15, due Jun 5;  acc May 16, ship May 25, delivered Jun 8 (LATE)
 *   O10 B1  70,000  created Jun 2,  due Jun 20; acc Jun 3,  ship Jun 12, DISPUTED Jun 14 (open)
 *   O11 B3  10,000  created Jun 10, due Jun 30; acc Jun 11
 *   O12 B1  25,000  created Jun 15, due Jul 15; CANCELLED by B1 Jun 16
 *   O13 B2  40,000  created Jul 3 (after asOf)
 * Purchase orders of S (buyer) from S2:
 *   P1  35,000  created Feb 10, due Mar 1;  acc Feb 11, ship Feb 20, delivered Feb 25, completed Feb 26
 *   P2  15,000  created May 1,  due May 20; acc May 2,  ship May 10, DISPUTED by S May 12, resolved May 14, delivered May 15
 *   P3  12,000  created Jun 1,  due Jun 20; acc Jun 2,  ship Jun 5,  delivered Jun 6
 * Receivables (issuer -> debtor, face, issued, maturity, acknowledged, payments):
 *   R1 S->B1  50,000 on O1: issued Y-1 May 21, matures Y-1 Jun 20, ack May 22; paid Y-1 Jun 15 in full
 *   R2 S->B1 100,000 on O2: issued Jan 26, matures Feb 25, ack Jan 27; paid Feb 20 in full (30,000 to loan L0)
 *   R3 S->B2  40,000 on O3: issued Feb 25, matures Mar 27, ack Feb 26; paid Apr 6 in full (30,000 to defaulted L2, 10,000 to S)
 *   R4 S->B1  80,000 on O4: issued Mar 16, matures Apr 15, ack Mar 17; paid 30,000 Apr 10 and 50,000 May 5
 *   R6 S->B2  60,000 on O6: issued May 4,  matures Jun 3,  ack May 5;  paid 20,000 Jun 10
 *   R7 S->B1 120,000 on O7: issued May 13, matures Jul 12, ack May 14; pledged to L1; paid Jul 10 in full (after asOf)
 *   R8 S->B3  30,000 on O8: issued May 21, matures Jun 20, never acknowledged
 *   R9 S->B2  25,000 on O9: issued Jun 9,  matures Jul 9,  ack Jun 10
 *   Q1 S2->S  35,000 on P1: issued Feb 26, matures Mar 28, ack Feb 27; paid Apr 7 in full
 *   Q2 S2->S  15,000 on P2: issued May 16, matures Jun 15, ack May 17; paid Jun 14 in full
 *   Q3 S2->S  12,000 on P3: issued Jun 7,  matures Jun 27, ack Jun 8;  unpaid
 * Loans of S from L:
 *   L0  30,000 at 0%,  Jan 28 -> Feb 27, on R2: recorded Jan 28, disbursed Jan 29, repaid in full Feb 20 by R2's waterfall
 *   L2  30,000 at 0%,  Feb 27 -> Mar 29, on R3: recorded Feb 27, disbursed Feb 28, DEFAULTED Apr 4 (R3 stays pledged),
 *      RECOVERED Apr 6 by R3's waterfall
 *   L1 100,000 at 10%, May 15 -> Jul 14 (60 days), on R7: total due 100,000 + floor(100,000 * 0.10 * 60/365) = 101,643;
 *      recorded May 15, disbursed May 16, repaid 20,000 Jun 15 by S, 81,643 Jul 10 by R7's waterfall (after asOf)
 *   L3  10,000 at 0%,  Jul 1 -> Jul 5, on R9: recorded and disbursed Jul 1, repaid by S Jul 2 (after asOf)
 *   L4  10,000 at 0%,  Jul 3 -> Jul 8, on R9 again: recorded and disbursed Jul 3, repaid by S Jul 4 (after asOf)
 *
 * asOf = Jun 30 Y 12:00, so figures are at asOfEnd = Jun 30 23:59:59. Windows (by each metric's defining time):
 * 30d = Jun 1..Jun 30; 90d = Apr 2..Jun 30; the 90 days before = Jan 2..Apr 1; 365d = Y-1 Jul 1..Jun 30; all.
 */
import { expect } from "chai";
import hre from "hardhat";
import os from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { PublicClient } from "viem";
import { ROLE } from "../../node-service/src/chain/eip712";
import type { Address, IndexState } from "../../node-service/src/domain/entities";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import { computeMetrics, computeMetricsAtUncached, computeMetricsUncached, monthlySeries } from "../../node-service/src/metrics/compute";
import { applyEvents } from "../../node-service/src/indexer/reduce";
import type { DecodedEvent } from "../../node-service/src/indexer/indexer";
import { emptyIndexState } from "../../node-service/src/domain/entities";
import { METRIC_DEFINITIONS } from "../../node-service/src/metrics/definitions";
import {
  admit,
  deployContracts,
  docHash,
  eventsIn,
  fundAndApprove,
  send,
  signAndSubmitAgreement,
  totalDue,
  type Net,
  type Wallet,
} from "../../scripts/lib/chain-helpers";
import { DAY } from "../../node-service/src/domain/time";

/** The first non-leap year Y whose previous year's April starts after `now`. */
function chooseYear(now: number): number {
  let y = new Date(now * 1000).getUTCFullYear() + 1;
  const leap = (n: number) => (n % 4 === 0 && n % 100 !== 0) || n % 400 === 0;
  while (leap(y) || Date.UTC(y - 1, 3, 1) / 1000 <= now) y++;
  return y;
}

interface Step {
  at: number;
  label: string;
  run: () => Promise<unknown>;
}

describe("metrics from a hand-checked trade history on the chain", function () {
  this.timeout(300_000);

  let snapshot: string;
  let dataDir: string;
  let state: IndexState;
  /** Every decoded event of the history, in chain order (for the chain cut at a past day). */
  const events: DecodedEvent[] = [];
  let S: Address;
  let Y: number;
  /** Y's month (1-12) and day at 10:00 UTC; `prev` for year Y-1. */
  let at: (month: number, day: number, prev?: boolean) => number;

  before(async () => {
    snapshot = (await hre.network.provider.request({ method: "evm_snapshot" })) as string;
    dataDir = await mkdtemp(path.join(os.tmpdir(), "scf-metrics-"));
    const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
    const [operator, s, b1, b2, b3, s2, lender] = (await hre.viem.getWalletClients()) as unknown as Wallet[];
    const net: Net = { publicClient, deployment: await deployContracts(publicClient, operator, 5 * DAY) };
    S = s.account.address.toLowerCase() as Address;
    Y = chooseYear(await time.latest());
    at = (month, day, prev = false) => Date.UTC(prev ? Y - 1 : Y, month - 1, day, 10) / 1000;
    // S is admitted at Y-1 Apr 1 10:00 (its tenure on the network); B3 shares a KYC attribute with it.
    await time.setNextBlockTimestamp(at(4, 1, true));
    const sharedAttribute = docHash("kyc-attribute:registered-address");
    await admit(net, operator, [
      { account: s.account.address, roles: ROLE.SUPPLIER | ROLE.BUYER, kycAttributes: [sharedAttribute] },
      { account: b1.account.address, roles: ROLE.BUYER },
      { account: b2.account.address, roles: ROLE.BUYER },
      { account: b3.account.address, roles: ROLE.BUYER, kycAttributes: [sharedAttribute] },
      { account: s2.account.address, roles: ROLE.SUPPLIER },
      { account: lender.account.address, roles: ROLE.LENDER },
    ]);
    for (const w of [b1, b2, b3, s]) await fundAndApprove(net, operator, w, 1_000_000n, "Receivables");
    for (const w of [s, lender]) await fundAndApprove(net, operator, w, 1_000_000n, "LoanAgreements");

    // Every step sends one transaction; steps run in time order (ties in the order written).
    const steps: Step[] = [];
    const step = (t: number, label: string, run: () => Promise<unknown>) => steps.push({ at: t, label, run });
    const orderIds: Record<string, bigint> = {};
    const receivableIds: Record<string, bigint> = {};
    const loanIds: Record<string, bigint> = {};

    type T = number | undefined;
    function order(
      name: string,
      buyer: Wallet,
      supplier: Wallet,
      amount: bigint,
      created: number,
      due: number,
      f: { accepted?: T; shipped?: T; delivered?: T; completed?: T; cancelled?: [number, Wallet]; disputed?: T; resolved?: T } = {},
    ) {
      step(created, `${name} created`, async () => {
        const receipt = await send(net, buyer, "TradeOrders", "createOrder", [
          supplier.account.address,
          amount,
          docHash(`po:${name}`),
          due,
        ]);
        orderIds[name] = eventsIn(net, receipt, "TradeOrders", "OrderCreated")[0].orderId as bigint;
      });
      const id = () => orderIds[name];
      if (f.cancelled) {
        const [t, by] = f.cancelled;
        step(t, `${name} cancelled`, () => send(net, by, "TradeOrders", "cancel", [id(), 1]));
      }
      if (f.accepted) step(f.accepted, `${name} accepted`, () => send(net, supplier, "TradeOrders", "accept", [id()]));
      if (f.shipped) step(f.shipped, `${name} shipped`, () => send(net, supplier, "TradeOrders", "ship", [id(), docHash(`bl:${name}`)]));
      if (f.disputed) step(f.disputed, `${name} disputed`, () => send(net, buyer, "TradeOrders", "dispute", [id(), 2]));
      if (f.resolved) step(f.resolved, `${name} dispute resolved`, () => send(net, buyer, "TradeOrders", "resolveDispute", [id()]));
      if (f.delivered) step(f.delivered, `${name} delivered`, () => send(net, buyer, "TradeOrders", "confirmDelivery", [id()]));
      if (f.completed) step(f.completed, `${name} completed`, () => send(net, buyer, "TradeOrders", "complete", [id()]));
    }

    function receivable(
      name: string,
      orderName: string,
      issuer: Wallet,
      debtor: Wallet,
      face: bigint,
      issued: number,
      maturity: number,
      acknowledged: T,
      payments: [number, bigint][] = [],
    ) {
      step(issued, `${name} issued`, async () => {
        const receipt = await send(net, issuer, "Receivables", "issue", [
          orderIds[orderName],
          docHash(`invoice:${name}`),
          docHash(name),
          face,
          maturity,
        ]);
        receivableIds[name] = eventsIn(net, receipt, "Receivables", "ReceivableIssued")[0].receivableId as bigint;
      });
      if (acknowledged)
        step(acknowledged, `${name} acknowledged`, () => send(net, debtor, "Receivables", "acknowledge", [receivableIds[name]]));
      for (const [t, amount] of payments)
        step(t, `${name} paid ${amount}`, () => send(net, debtor, "Receivables", "pay", [receivableIds[name], amount]));
    }

    function loan(
      name: string,
      principal: bigint,
      rateBps: bigint,
      start: number,
      maturity: number,
      collateral: string[],
      f: { disbursed: number; repaid?: [number, bigint][]; defaulted?: number },
    ) {
      const nonce = BigInt(steps.length);
      step(start, `${name} signed and recorded`, async () => {
        const a = await signAndSubmitAgreement(net, {
          borrower: s,
          lender,
          principal,
          rateBps,
          start,
          maturity,
          deadline: start + DAY,
          nonce,
          collateral: collateral.map((c) => receivableIds[c]),
        });
        loanIds[name] = a.loanId;
      });
      step(f.disbursed, `${name} disbursed`, () => send(net, lender, "LoanAgreements", "disburse", [loanIds[name]]));
      for (const [t, amount] of f.repaid ?? [])
        step(t, `${name} repaid ${amount}`, () => send(net, s, "LoanAgreements", "repay", [loanIds[name], amount]));
      if (f.defaulted) {
        const d = f.defaulted;
        step(d, `${name} default declared`, () => send(net, lender, "LoanAgreements", "declareDefault", [loanIds[name]]));
      }
    }

    const p = true; // year Y-1
    order("O1", b1, s, 50_000n, at(5, 10, p), at(5, 30, p), {
      accepted: at(5, 11, p),
      shipped: at(5, 15, p),
      delivered: at(5, 20, p),
      completed: at(5, 21, p),
    });
    order("O2", b1, s, 100_000n, at(1, 10), at(1, 31), {
      accepted: at(1, 11),
      shipped: at(1, 20),
      delivered: at(1, 25),
      completed: at(1, 26),
    });
    order("O3", b2, s, 40_000n, at(2, 5), at(2, 20), {
      accepted: at(2, 6),
      shipped: at(2, 18),
      delivered: at(2, 24),
      completed: at(2, 25),
    });
    order("P1", s, s2, 35_000n, at(2, 10), at(3, 1), {
      accepted: at(2, 11),
      shipped: at(2, 20),
      delivered: at(2, 25),
      completed: at(2, 26),
    });
    order("O4", b1, s, 80_000n, at(3, 1), at(3, 20), {
      accepted: at(3, 2),
      shipped: at(3, 10),
      delivered: at(3, 15),
      completed: at(3, 16),
    });
    order("O5", b3, s, 20_000n, at(3, 20), at(4, 10), { cancelled: [at(3, 22), s] });
    order("O6", b2, s, 60_000n, at(4, 5), at(4, 25), {
      accepted: at(4, 6),
      shipped: at(4, 15),
      delivered: at(4, 20),
      disputed: at(4, 22),
      resolved: at(5, 2),
      completed: at(5, 3),
    });
    order("O7", b1, s, 120_000n, at(4, 20), at(5, 10), {
      accepted: at(4, 21),
      shipped: at(5, 1),
      delivered: at(5, 12),
      completed: at(5, 13),
    });
    order("P2", s, s2, 15_000n, at(5, 1), at(5, 20), {
      accepted: at(5, 2),
      shipped: at(5, 10),
      disputed: at(5, 12),
      resolved: at(5, 14),
      delivered: at(5, 15),
    });
    order("O8", b3, s, 30_000n, at(5, 5), at(5, 25), {
      accepted: at(5, 6),
      shipped: at(5, 10),
      delivered: at(5, 20),
      completed: at(5, 21),
    });
    order("O9", b2, s, 50_000n, at(5, 15), at(6, 5), { accepted: at(5, 16), shipped: at(5, 25), delivered: at(6, 8) });
    order("P3", s, s2, 12_000n, at(6, 1), at(6, 20), { accepted: at(6, 2), shipped: at(6, 5), delivered: at(6, 6) });
    order("O10", b1, s, 70_000n, at(6, 2), at(6, 20), { accepted: at(6, 3), shipped: at(6, 12), disputed: at(6, 14) });
    order("O11", b3, s, 10_000n, at(6, 10), at(6, 30), { accepted: at(6, 11) });
    order("O12", b1, s, 25_000n, at(6, 15), at(7, 15), { cancelled: [at(6, 16), b1] });
    order("O13", b2, s, 40_000n, at(7, 3), at(7, 20));

    receivable("R1", "O1", s, b1, 50_000n, at(5, 21, p), at(6, 20, p), at(5, 22, p), [[at(6, 15, p), 50_000n]]);
    receivable("R2", "O2", s, b1, 100_000n, at(1, 26), at(2, 25), at(1, 27), [[at(2, 20), 100_000n]]);
    receivable("R3", "O3", s, b2, 40_000n, at(2, 25), at(3, 27), at(2, 26), [[at(4, 6), 40_000n]]);
    receivable("Q1", "P1", s2, s, 35_000n, at(2, 26), at(3, 28), at(2, 27), [[at(4, 7), 35_000n]]);
    receivable("R4", "O4", s, b1, 80_000n, at(3, 16), at(4, 15), at(3, 17), [
      [at(4, 10), 30_000n],
      [at(5, 5), 50_000n],
    ]);
    receivable("R6", "O6", s, b2, 60_000n, at(5, 4), at(6, 3), at(5, 5), [[at(6, 10), 20_000n]]);
    receivable("R7", "O7", s, b1, 120_000n, at(5, 13), at(7, 12), at(5, 14), [[at(7, 10), 120_000n]]);
    receivable("Q2", "P2", s2, s, 15_000n, at(5, 16), at(6, 15), at(5, 17), [[at(6, 14), 15_000n]]);
    receivable("R8", "O8", s, b3, 30_000n, at(5, 21), at(6, 20), undefined);
    receivable("Q3", "P3", s2, s, 12_000n, at(6, 7), at(6, 27), at(6, 8));
    receivable("R9", "O9", s, b2, 25_000n, at(6, 9), at(7, 9), at(6, 10));

    loan("L0", 30_000n, 0n, at(1, 28), at(2, 27), ["R2"], { disbursed: at(1, 29) });
    loan("L2", 30_000n, 0n, at(2, 27), at(3, 29), ["R3"], { disbursed: at(2, 28), defaulted: at(4, 4) });
    loan("L1", 100_000n, 1000n, at(5, 15), at(7, 14), ["R7"], { disbursed: at(5, 16), repaid: [[at(6, 15), 20_000n]] });
    loan("L3", 10_000n, 0n, at(7, 1), at(7, 5), ["R9"], { disbursed: at(7, 1), repaid: [[at(7, 2), 10_000n]] });
    loan("L4", 10_000n, 0n, at(7, 3), at(7, 8), ["R9"], { disbursed: at(7, 3), repaid: [[at(7, 4), 10_000n]] });
    expect(totalDue(100_000n, 1000n, BigInt(at(5, 15)), BigInt(at(7, 14)))).to.equal(101_643n);

    steps.sort((x, y) => x.at - y.at);
    for (const st of steps) {
      const t = Math.max(st.at, (await time.latest()) + 1);
      await time.setNextBlockTimestamp(t);
      try {
        await st.run();
      } catch (e) {
        throw new Error(`step "${st.label}" at ${new Date(t * 1000).toISOString()} failed: ${(e as Error).message}`);
      }
    }

    const indexer = await createIndexer({ publicClient, deployment: net.deployment, dataDir, confirmations: 0 });
    indexer.on("batch", (b) => events.push(...b.events));
    await indexer.syncOnce();
    state = indexer.state();
    await indexer.stop();
  });

  after(async () => {
    if (snapshot) await hre.network.provider.request({ method: "evm_revert", params: [snapshot] });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("indexed the whole history", () => {
    const mine = (state.ordersByParty[S] ?? []).map((id) => state.orders[id]);
    expect(mine.length).to.equal(16); // O1..O13, P1..P3
    expect(Object.keys(state.loans).length).to.equal(5);
    expect(events.length).to.equal(state.eventCount);
  });

  it("gives every metric its hand-computed value as of Jun 30", () => {
    const m = computeMetrics(state, S, Date.UTC(Y, 5, 30, 12) / 1000);
    expect(m.asOf).to.equal(Date.UTC(Y, 6, 1) / 1000 - 1);
    expect(m.day).to.equal(`${Y}-06-30`);

    const expected: Record<string, Record<string, bigint | number | null>> = {
      // Non-cancelled sales orders by createdAt. 30d: O10 O11 (O12 cancelled). 90d: O6..O11.
      // 365d: + O2 O3 O4 (O5 cancelled). all: + O1 (O13 is after asOf).
      orderCount: { "30d": 2, "90d": 6, "365d": 9, all: 10 },
      // 30d: 70,000 + 10,000. 90d: 60+120+30+50+70+10 thousand. 365d: + 100+40+80. all: + 50.
      orderValue: { "30d": 80_000n, "90d": 340_000n, "365d": 560_000n, all: 610_000n },
      // completedAt: O6 May 3, O7 May 13, O8 May 21 (90d); + O2 O3 O4 (365d); + O1 (all).
      ordersCompleted: { "30d": 0, "90d": 3, "365d": 6, all: 7 },
      // Settled by asOf: completed (completedAt), cancelled (cancelledAt) or open past due (deliveryDue); O13 is
      // not due. 30d: O12 cancelled Jun 16, O9 O10 O11 open past due: 0/4. 90d: + O6 O7 O8 completed: 3/7.
      // 365d: + O2 O3 O4 completed, O5 cancelled Mar 22: 6/11. all: + O1: 7/12.
      completionRate: { "30d": 0, "90d": 0.4286, "365d": 0.5455, all: 0.5833 },
      // By deliveryDue, O5 left out (cancelled Mar 22 before its due Apr 10); delivered by due. 30d: O9 late
      // (Jun 8 > Jun 5), O10 and O11 undelivered past due: 0/3. 90d: O6 on, O7 late, O8 on, O9 O10 O11 late: 2/6.
      // 365d: + O2 on, O3 late, O4 on: 4/9. all: + O1 on: 5/10.
      onTimeDeliveryRate: { "30d": 0, "90d": 0.3333, "365d": 0.4444, all: 0.5 },
      // Lead days: O9 24; O6 15, O7 22, O8 15 -> 76/4; O2 15, O3 19, O4 14 -> 124/7 = 17.714; O1 10 -> 134/8.
      deliveryLeadTimeMean: { "30d": 24, "90d": 19, "365d": 17.71, all: 16.75 },
      // Cancelled / created. 30d: O12 of 3. 90d: O12 of 7. 365d: O5 O12 of 11. all: 2 of 12.
      cancellationRate: { "30d": 0.3333, "90d": 0.1429, "365d": 0.1818, all: 0.1667 },
      // By shippedAt, disputed by asOf. 30d: O10 of O10. 90d: O6 O10 of O6 O7 O8 O9 O10.
      // 365d: 2 of 8 (+ O2 O3 O4). all: 2 of 9 (+ O1).
      disputeRate: { "30d": 1, "90d": 0.4, "365d": 0.25, all: 0.2222 },

      // By issuedAt: 30d R9; 90d R6 R7 R8 R9; 365d + R2 R3 R4; all + R1.
      receivablesIssuedCount: { "30d": 1, "90d": 4, "365d": 7, all: 8 },
      receivablesIssuedValue: { "30d": 25_000n, "90d": 235_000n, "365d": 455_000n, all: 505_000n },
      // By acknowledgedAt (R8 never): 30d R9; 90d R6 R7 R9; 365d + R2 R3 R4; all + R1.
      receivablesConfirmedCount: { "30d": 1, "90d": 3, "365d": 6, all: 7 },
      receivablesConfirmedValue: { "30d": 25_000n, "90d": 205_000n, "365d": 425_000n, all: 475_000n },
      // Issued in window and acknowledged: 1/1, 3/4, 6/7, 7/8.
      confirmationRate: { "30d": 1, "90d": 0.75, "365d": 0.8571, all: 0.875 },
      // None cancelled; R6's order O6 was disputed (Apr 22): its unpaid 40,000 is lost; no short payment
      // (R6 is partly paid but not 90 days past maturity). 30d: R9 0/25,000. 90d: 40/235. 365d: 40/455. all: 40/505.
      dilutionRate: { "30d": 0, "90d": 0.1702, "365d": 0.0879, all: 0.0792 },

      // Fully paid, by final payment: R1 25 d (Y-1 Jun 15), R2 25 d (Feb 20), R3 40 d (Apr 6), R4 50 d (May 5);
      // past maturity and unpaid, by maturity: R6 (Jun 3, 40,000 unpaid): May 4 10:00 -> Jun 30 23:59:59 =
      // 57.5833 d. 30d: R6. 90d: (40 + 50 + 57.5833)/3 = 49.1944. 365d: + R2: 172.5833/4 = 43.1458.
      // all: + R1: 197.5833/5 = 39.5167.
      paybackCycleMean: { "30d": 57.58, "90d": 49.19, "365d": 43.15, all: 39.52 },
      // Nearest rank ceil(0.9 n): the largest of 1, 2, 4 and 5 values: R6's 57.58.
      paybackCycleP90: { "30d": 57.58, "90d": 57.58, "365d": 57.58, all: 57.58 },
      // Confirmed invoices by maturity (R7 R9 mature after asOf, R8 unconfirmed): R1 Y-1 Jun 20 on time,
      // R2 Feb 25 on time, R3 Mar 27 late, R4 Apr 15 late (30,000 of 80,000 by then), R6 Jun 3 late.
      // 30d: R6 1/1. 90d: R4 R6 2/2. 365d: R2 R3 R4 R6 3/4. all: + R1 3/5.
      overdueRate: { "30d": 1, "90d": 1, "365d": 0.75, all: 0.6 },
      // Late days: R3 10 (to Apr 6), R4 20 (to May 5), R6 unpaid: Jun 3 10:00 -> Jun 30 23:59:59 = 27.5833.
      // 30d: 27.58. 90d: (20 + 27.5833)/2 = 23.79. 365d and all: (10 + 20 + 27.5833)/3 = 19.19.
      lateInvoiceDaysMean: { "30d": 27.58, "90d": 23.79, "365d": 19.19, all: 19.19 },
      // Amount x days late over face value, by maturity. R1 R2 on time (0). R3 40,000 x 10 d. R4 50,000 x 20 d
      // (30,000 paid before maturity). R6 20,000 x 7 d (Jun 10) + 40,000 x 27.5833 d (unpaid to asOfEnd).
      // 30d: R6 (140,000 + 1,103,333.3)/60,000 = 20.7222. 90d: (1,000,000 + 1,243,333.3)/140,000 = 16.0238.
      // 365d: (400,000 + 1,000,000 + 1,243,333.3)/280,000 = 9.4405. all: /330,000 = 8.0101.
      daysBeyondTerms: { "30d": 20.72, "90d": 16.02, "365d": 9.44, all: 8.01 },
      // Unpaid confirmed invoices, whoever holds them: R6 40,000 + R7 120,000 + R9 25,000 = 185,000 (R8 not
      // confirmed). Invoiced: 90d R6 R7 R8 R9 = 235,000; 365d + R2 R3 R4 = 455,000.
      // 185,000 x 90 / 235,000 = 70.851; 185,000 x 365 / 455,000 = 148.407.
      dso: { "90d": 70.85, "365d": 148.41 },
      // The book, held by S: R6 40,000 + R7 120,000 (pledged, still S's) + R9 25,000; R3 went to L.
      outstandingValue: { all: 185_000n },
      // Matured and unpaid: R6's 40,000.
      overdueValue: { all: 40_000n },
      // R7 (matures Jul 12) and R9 (Jul 9) are current; R6 is 27.58 days past due.
      ageingCurrent: { all: 145_000n },
      ageing1to30: { all: 40_000n },
      ageing31to60: { all: 0n },
      ageing61to90: { all: 0n },
      ageingOver90: { all: 0n },

      // Trade by buyer. 30d: B1 70, B3 10 (of 80): 0.875^2 + 0.125^2 = 0.78125.
      // 90d: B1 190, B2 110, B3 40 (of 340): (36100 + 12100 + 1600)/115600 = 0.43080.
      // 365d: B1 370, B2 150, B3 40 (of 560): 161000/313600 = 0.51339. all: B1 420 (of 610): 200500/372100 = 0.53883.
      buyerHhi: { "30d": 0.7813, "90d": 0.4308, "365d": 0.5134, all: 0.5388 },
      // B1: 70/80, 190/340, 370/560, 420/610.
      topBuyerShare: { "30d": 0.875, "90d": 0.5588, "365d": 0.6607, all: 0.6885 },
      // The book by debtor: B1 120,000 (R7), B2 65,000 (R6 40,000 + R9 25,000), of 185,000.
      // (120^2 + 65^2) / 185^2 = 18,625 / 34,225 = 0.54419; top 120/185 = 0.64865.
      debtorHhi: { all: 0.5442 },
      topDebtorShare: { all: 0.6486 },
      // B3 shares S's KYC attribute: its orders O8 30,000 and O11 10,000. 30d: 10/80. 90d: 40/340.
      // 365d: 40/560. all: 40/610.
      relatedPartySalesShare: { "30d": 0.125, "90d": 0.1176, "365d": 0.0714, all: 0.0656 },
      // Non-cancelled orders either side. 30d: B1 (O10), B3 (O11), S2 (P3). Later windows add B2: 4.
      distinctCounterparties: { "30d": 3, "90d": 4, "365d": 4, all: 4 },
      // First non-cancelled sales order per buyer: B1 Y-1 May 10, B2 Feb 5, B3 May 5 (O5 was cancelled).
      // To Jun 30 23:59:59: B1 416 d 13:59:59 = 416.5833; B2 145.5833; B3 56.5833. Longest: B1 in every window.
      relationshipTenureDays: { "30d": 416.58, "90d": 416.58, "365d": 416.58, all: 416.58 },
      // 30d buyers B1 B3: (416.5833 + 56.5833)/2 = 236.5833. Others B1 B2 B3: 618.75/3 = 206.25.
      relationshipTenureMean: { "30d": 236.58, "90d": 206.25, "365d": 206.25, all: 206.25 },

      // Last 90 days 340,000 against Jan 2..Apr 1: O2 + O3 + O4 = 220,000 -> 120/220 = 0.54545.
      volumeGrowth: { "180d": 0.5455 },
      // Twelve periods of 30 d 10 h ending Jun 30 23:59:59; the first starts Jul 1 Y-1 00:00:00 (all after
      // S's first order O1, so all twelve count). Periods 1-6 (to Dec 30 11:59:59) 0; 7 (to Jan 29 21:59:59)
      // O2 100; 8 (to Mar 1 07:59:59) O3 40; 9 (to Mar 31 17:59:59) O4 80 (Mar 1 10:00); 10 (to May 1 03:59:59)
      // O6 + O7 180; 11 (to May 31 13:59:59) O8 + O9 80; 12 O10 + O11 80 (thousands): n = 12, sum 560, sum of
      // squares 63,200. CV = sqrt(n * sumsq - sum^2) / sum = sqrt(758,400 - 313,600) / 560 = 666.933 / 560 = 1.19095.
      volumeVolatility: { "365d": 1.191 },

      // S holds confirmed unpaid R6 40,000, R7 120,000 (pledged to L1, live until Jul 10), R9 25,000 (R3 paid Apr 6).
      pledgedRatio: { all: 0.6486 },
      // L0 repaid; L2 defaulted, then recovered from R3's payment on Apr 6; L1 101,643 - 20,000 = 81,643.
      loansOutstanding: { all: 81_643n },
      // L1 matures Jul 14: not past due.
      loanDaysPastDue: { all: 0 },
      // All from L: L1 disbursed May 16 (90d), L0 Jan 29 and L2 Feb 28 (365d).
      lenderCount: { "30d": 0, "90d": 1, "365d": 1, all: 1 },
      // 81,643 / 185,000 (confirmed unpaid receivables S holds).
      leverage: { all: 0.4413 },
      // By maturity: L0 Feb 27 repaid Feb 20 (on time), L2 Mar 29 not repaid; L1 matures Jul 14.
      repaymentOnTimeRate: { "30d": null, "90d": null, "365d": 0.5, all: 0.5 },
      // L2 defaulted Apr 4.
      defaults: { "30d": 0, "90d": 1, "365d": 1, all: 1 },

      // Purchases by createdAt: P3 Jun 1; P2 May 1; P1 Feb 10.
      purchaseCount: { "30d": 1, "90d": 2, "365d": 3, all: 3 },
      purchaseValue: { "30d": 12_000n, "90d": 27_000n, "365d": 62_000n, all: 62_000n },
      // Q1 paid Apr 7, 40 d after issue; Q2 paid Jun 14, 29 d; Q3 (matured Jun 27) unpaid: Jun 7 10:00 ->
      // Jun 30 23:59:59 = 23.5833 d. 30d: (29 + 23.5833)/2 = 26.2917. 90d and on: + Q1: 92.5833/3 = 30.8611.
      debtorPaybackCycleMean: { "30d": 26.29, "90d": 30.86, "365d": 30.86, all: 30.86 },
      // By maturity: Q1 Mar 28 (late), Q2 Jun 15 (on time), Q3 Jun 27 (unpaid, late). 30d, 90d: Q2 Q3. 365d: all three.
      debtorOverdueRate: { "30d": 0.5, "90d": 0.5, "365d": 0.6667, all: 0.6667 },
      // Q3: Jun 27 10:00 -> Jun 30 23:59:59 = 3.5833; Q1: 10. (10 + 3.5833)/2 = 6.79.
      debtorLateInvoiceDaysMean: { "30d": 3.58, "90d": 3.58, "365d": 6.79, all: 6.79 },
      // Q1 35,000 x 10 d; Q2 on time; Q3 12,000 x 3.5833 d. 30d, 90d: 43,000/27,000 = 1.5926.
      // 365d, all: (350,000 + 43,000)/62,000 = 6.3387.
      debtorDaysBeyondTerms: { "30d": 1.59, "90d": 1.59, "365d": 6.34, all: 6.34 },
      debtorOutstandingValue: { all: 12_000n },
      debtorOverdueValue: { all: 12_000n },
      // S disputed P2 on May 12.
      disputesRaised: { "30d": 0, "90d": 1, "365d": 1, all: 1 },

      // Admitted Y-1 Apr 1 10:00: 365 + 90 days to Jun 30 10:00, + 13:59:59.
      networkTenureDays: { all: 455.58 },
      // Latest activity: O12 created Jun 15 10:00 (later cancelled; its creation was activity).
      daysSinceLastActivity: { all: 15.58 },
    };

    expect(Object.keys(expected)).to.have.members(METRIC_DEFINITIONS.map((d) => d.key));
    for (const key of Object.keys(expected)) expect(m.values[key], key).to.deep.equal(expected[key]);
    expect(m.values).to.deep.equal(expected);
  });

  it("gives the monthly series of Jan..Jun by calendar month", () => {
    expect(monthlySeries(state, S, Date.UTC(Y, 5, 30, 12) / 1000, 6)).to.deep.equal([
      // O2; O2 delivered on time; nothing fully paid.
      { month: `${Y}-01`, orderValue: 100_000n, orderCount: 1, onTimeRate: 1, paybackDaysMean: null },
      // O3 delivered late; R2 paid Feb 20 after 25 days.
      { month: `${Y}-02`, orderValue: 40_000n, orderCount: 1, onTimeRate: 0, paybackDaysMean: 25 },
      // O4 (O5 cancelled); O4 on time.
      { month: `${Y}-03`, orderValue: 80_000n, orderCount: 1, onTimeRate: 1, paybackDaysMean: null },
      // O6 + O7; O6 on time; R3 paid Apr 6 after 40 days.
      { month: `${Y}-04`, orderValue: 180_000n, orderCount: 2, onTimeRate: 1, paybackDaysMean: 40 },
      // O8 + O9; O7 late, O8 on time; R4 paid May 5 after 50 days.
      { month: `${Y}-05`, orderValue: 80_000n, orderCount: 2, onTimeRate: 0.5, paybackDaysMean: 50 },
      // O10 + O11 (O12 cancelled); O9 late.
      { month: `${Y}-06`, orderValue: 80_000n, orderCount: 2, onTimeRate: 0, paybackDaysMean: null },
    ]);
  });

  it("knows the pledges, defaults and loan days past due of each past day", () => {
    // Mar 20: R3 is S's, pledged to the live L2 (in default from Apr 4, recovered Apr 6). Held confirmed unpaid: R3 40,000 +
    // R4 80,000 -> 40/120. L2 (30,000) not yet due.
    const mar20 = computeMetrics(state, S, Date.UTC(Y, 2, 20, 12) / 1000).values;
    expect(mar20.pledgedRatio.all).to.equal(0.3333);
    expect(mar20.loansOutstanding.all).to.equal(30_000n);
    expect(mar20.loanDaysPastDue.all).to.equal(0);
    // Apr 1: L2 matured Mar 29 10:00 and still owes: 3 d 13:59:59 past due.
    expect(computeMetrics(state, S, Date.UTC(Y, 3, 1, 12) / 1000).values.loanDaysPastDue.all).to.equal(3.58);
    // Apr 5: L2 defaulted Apr 4 and still owes; R3's payment recovers it only on Apr 6.
    const apr5 = computeMetrics(state, S, Date.UTC(Y, 3, 5, 12) / 1000).values;
    expect(apr5.loansOutstanding.all).to.equal(30_000n);
    expect(apr5.loanDaysPastDue.all).to.equal(7.58);
    expect(computeMetrics(state, S, Date.UTC(Y, 3, 6, 12) / 1000).values.loanDaysPastDue.all).to.equal(null);
    // Jul 1: R9 (25,000) pledged to the live L3; R6 40,000 and R7 120,000 (pledged to L1) held too.
    // The index by now names L4 (recorded Jul 3) as R9's pledge: the figure must not depend on it.
    expect(computeMetrics(state, S, Date.UTC(Y, 6, 1, 12) / 1000).values.pledgedRatio.all).to.equal(0.7838); // 145/185
    // Jul 2: L3 repaid, L4 not yet recorded.
    expect(computeMetrics(state, S, Date.UTC(Y, 6, 2, 12) / 1000).values.pledgedRatio.all).to.equal(0.6486); // 120/185
    expect(computeMetrics(state, S, Date.UTC(Y, 6, 3, 12) / 1000).values.pledgedRatio.all).to.equal(0.7838);
  });

  it("evaluates a decision's metrics at its moment, not at the end of its day", () => {
    // R6 (60,000, nothing paid yet) matures Jun 3 10:00. The book then: R6 + R7 120,000 (R9 is issued Jun 9).
    // At 08:00 R6 is not yet overdue; at the end of the day it is.
    const morning = computeMetricsAtUncached(state, S, Date.UTC(Y, 5, 3, 8) / 1000).values;
    expect(morning.overdueValue.all).to.equal(0n);
    expect(morning.ageingCurrent.all).to.equal(180_000n);
    const evening = computeMetricsUncached(state, S, Date.UTC(Y, 5, 3, 8) / 1000).values;
    expect(evening.overdueValue.all).to.equal(60_000n);
    expect(evening.ageing1to30.all).to.equal(60_000n);
  });

  it("gives at every past day and instant exactly what the chain cut there gives (no look-ahead)", () => {
    // The chain cut at t is the index of the events with block time <= t: reduce them into a fresh
    // state, one step at a time, and compare every metric of every participant with the full index
    // at the end of every day from the day before the first trade to two days after the last event,
    // and at every instant an event happened and the second before it (a decision's moment).
    const parties = Object.keys(state.participants) as Address[];
    const cut = emptyIndexState();
    const json = (m: unknown) => JSON.stringify(m, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
    let compared = 0;
    const compare = (t: number, daily: boolean) => {
      for (const e of parties) {
        const full = daily ? computeMetricsUncached(state, e, t) : computeMetricsAtUncached(state, e, t);
        const then = daily ? computeMetricsUncached(cut, e, t) : computeMetricsAtUncached(cut, e, t);
        // A string comparison is fast; chai's deep equality names the difference when there is one.
        if (json(full) !== json(then))
          expect(full, `${e} at ${new Date(t * 1000).toISOString()}${daily ? " (day)" : ""}`).to.deep.equal(then);
        compared += 1;
      }
    };
    const firstTrade = events.find((e) => e.ref.contract === "TradeOrders")?.ref.at as number;
    let next = 0;
    // Set-up events before the history (deployment, admissions) go in first.
    while (events[next].ref.at < Math.floor(firstTrade / DAY) * DAY - DAY) next++;
    applyEvents(cut, events.slice(0, next), false);
    const lastDay = Math.floor(events[events.length - 1].ref.at / DAY) + 2;
    for (let day = Math.floor(firstTrade / DAY) - 1; day <= lastDay; day++) {
      const dayEnd = (day + 1) * DAY - 1;
      while (next < events.length && events[next].ref.at <= dayEnd) {
        const t = events[next].ref.at;
        compare(t - 1, false);
        const batch: DecodedEvent[] = [];
        while (next < events.length && events[next].ref.at === t) batch.push(events[next++]);
        applyEvents(cut, batch, false);
        compare(t, false);
      }
      compare(dayEnd, true);
    }
    expect(cut.eventCount).to.equal(state.eventCount);
    expect(json(cut)).to.equal(json(state));
    expect(compared).to.be.greaterThan(3_000);
  });

  it("counts what happened after asOf only at a later asOf", () => {
    // Jul 10: O13 created Jul 3, R7 paid in full through the waterfall, which closes L1.
    const v = computeMetrics(state, S, Date.UTC(Y, 6, 10, 12) / 1000).values;
    expect(v.orderCount.all).to.equal(11);
    expect(v.outstandingValue.all).to.equal(65_000n); // R6 40,000 + R9 25,000
    expect(v.loansOutstanding.all).to.equal(0n); // L1 closed; the defaulted L2 was recovered from R3 on Apr 6; L3, L4 repaid
    expect(v.pledgedRatio.all).to.equal(0); // R7 paid, L1 closed
    expect(v.overdueValue.all).to.equal(65_000n); // R9 matured Jul 9
  });
});
