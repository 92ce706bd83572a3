/**
 * Fraud screening of one borrower as of a point in time: a pure function of the index, so the same
 * state and `asOf` always give the same flags in the same order. Every flag carries the on-chain
 * events behind it (EventRef), so a lender can re-check it against any node.
 *
 * Only facts dated at or before `asOf` count (an order cancelled later still counts as live then),
 * which keeps a screening reproducible from a later, larger index.
 */
import type { Hex } from "viem";
import type { Address, EventRef, IndexState, OrderEntity, ParticipantEntity } from "../domain/entities";
import { createTradeGraph, findCyclesThrough, orderLiveIn } from "./graph";
import { DAY } from "../domain/time";
import { sharedKycAttributes } from "../metrics/records";
import { resolveRiskParams, type RiskParams } from "./params";

export type RiskFlagCode =
  | "circular_trading"
  | "related_party"
  | "farmed_history"
  | "buyer_concentration"
  | "related_party_acknowledgment"
  | "selective_leniency";

export type RiskSeverity = "info" | "warn" | "block";

export interface RiskFlag {
  /** One of RiskFlagCode; typed as string so a policy can name flags added later. */
  code: string;
  severity: RiskSeverity;
  summary: string;
  /** JSON-native values only (amounts as decimal strings), so a flag survives a JSON round trip unchanged. */
  details: Record<string, unknown>;
  evidence: EventRef[];
}

export const SEVERITY_RANK: Record<RiskSeverity, number> = { info: 0, warn: 1, block: 2 };


export function screenBorrower(
  state: IndexState,
  borrower: Address,
  opts: { asOf: number; params?: Partial<RiskParams> },
): RiskFlag[] {
  const params = resolveRiskParams(opts.params);
  const who = borrower.toLowerCase() as Address;
  const ctx: Ctx = { state, borrower: who, asOf: opts.asOf, params };
  const related = relatedParties(ctx);
  return [
    ...circularTrading(ctx),
    ...relatedPartyFlags(ctx, related),
    ...relatedPartyAcknowledgments(ctx, related),
    ...farmedHistory(ctx),
    ...buyerConcentration(ctx),
    ...selectiveLeniency(ctx),
  ];
}

interface Ctx {
  state: IndexState;
  borrower: Address;
  asOf: number;
  params: RiskParams;
}

// ---------------------------------------------------------------- circular trading

function circularTrading(ctx: Ctx): RiskFlag[] {
  const { params, asOf } = ctx;
  const graph = createTradeGraph(ctx.state, { from: asOf - params.cycleWindowDays * DAY, to: asOf });
  const search = findCyclesThrough(graph, ctx.borrower, {
    minLength: params.minCycleLength,
    maxLength: params.maxCycleLength,
    maxCycles: params.maxCycles,
    budget: params.cycleSearchBudget,
  });
  return search.cycles.map((members) => {
    const edges = members.map((buyer, i) => graph.edge(buyer, members[(i + 1) % members.length])!);
    const orderIds = edges.flatMap((e) => e.orderIds);
    const steps = edges.map((e) => `${short(e.buyer)} buys from ${short(e.supplier)}`).join(", ");
    return {
      code: "circular_trading",
      severity: "block",
      summary: `Trade cycle of ${members.length} participants within ${params.cycleWindowDays} days: ${steps}`,
      details: {
        members,
        length: members.length,
        windowDays: params.cycleWindowDays,
        edges: edges.map((e) => ({ buyer: e.buyer, supplier: e.supplier, orderIds: e.orderIds, total: e.total.toString() })),
        orderCount: orderIds.length,
        searchTruncated: search.truncated,
      },
      evidence: cap(orderIds.map((id) => createdRef(ctx.state.orders[id])), params.maxEvidence),
    };
  });
}

// ---------------------------------------------------------------- related parties

interface Related {
  party: ParticipantEntity;
  shared: Hex[];
}

/** Participants admitted by `asOf` that share at least one KYC attribute hash with the borrower. */
function relatedParties(ctx: Ctx): Related[] {
  const self = ctx.state.participants[ctx.borrower];
  if (!self || sharedKycAttributes(self, self).length === 0) return [];
  const out: Related[] = [];
  for (const party of Object.values(ctx.state.participants)) {
    if (party.address === ctx.borrower || party.admittedAt > ctx.asOf) continue;
    const shared = sharedKycAttributes(self, party);
    if (shared.length > 0) out.push({ party, shared });
  }
  return out.sort((a, b) => cmpStr(a.party.address, b.party.address));
}

/** Orders between the borrower and `other` (either direction) created by `asOf`, in creation order. */
function ordersBetween(ctx: Ctx, other: Address): OrderEntity[] {
  const out: OrderEntity[] = [];
  for (const id of ctx.state.ordersByParty[ctx.borrower] ?? []) {
    const o = ctx.state.orders[id];
    if (!o || o.createdAt > ctx.asOf) continue;
    if ((o.buyer === ctx.borrower && o.supplier === other) || (o.supplier === ctx.borrower && o.buyer === other)) out.push(o);
  }
  return out;
}

function relatedPartyFlags(ctx: Ctx, related: Related[]): RiskFlag[] {
  const self = ctx.state.participants[ctx.borrower];
  return related.map(({ party, shared }) => {
    const orders = ordersBetween(ctx, party.address);
    const traded = orders.length > 0;
    return {
      code: "related_party",
      // Sharing a representative or an address matters most when the two also trade with each other.
      severity: traded ? "warn" : "info",
      summary: `${short(party.address)} shares ${shared.length} KYC attribute(s) with the borrower${traded ? ` and traded with it in ${orders.length} order(s)` : ""}`,
      details: { party: party.address, sharedAttributes: shared, tradedWith: traded, orderIds: orders.map((o) => o.id) },
      evidence: cap([self.admitted, party.admitted, ...orders.map(createdRef)], ctx.params.maxEvidence),
    };
  });
}

function relatedPartyAcknowledgments(ctx: Ctx, related: Related[]): RiskFlag[] {
  if (related.length === 0) return [];
  const byAddress = new Map(related.map((r) => [r.party.address, r]));
  const byDebtor = new Map<Address, { receivableIds: string[]; refs: EventRef[]; face: bigint }>();
  for (const id of ctx.state.receivablesByParty[ctx.borrower] ?? []) {
    const r = ctx.state.receivables[id];
    if (!r || (r.issuer !== ctx.borrower && r.holder !== ctx.borrower)) continue;
    if (r.acknowledgedAt === undefined || r.acknowledgedAt > ctx.asOf) continue;
    if (r.cancelledAt !== undefined && r.cancelledAt <= ctx.asOf) continue;
    if (!byAddress.has(r.debtor)) continue;
    let entry = byDebtor.get(r.debtor);
    if (!entry) byDebtor.set(r.debtor, (entry = { receivableIds: [], refs: [], face: 0n }));
    entry.receivableIds.push(r.id);
    entry.face += r.faceValue;
    const ack = r.events.find((e) => e.event === "ReceivableAcknowledged");
    if (ack) entry.refs.push(ack);
  }
  const self = ctx.state.participants[ctx.borrower];
  return [...byDebtor.entries()]
    .sort(([a], [b]) => cmpStr(a, b))
    .map(([debtor, entry]) => {
      const rel = byAddress.get(debtor)!;
      return {
        code: "related_party_acknowledgment",
        severity: "warn",
        summary: `${entry.receivableIds.length} receivable(s) of the borrower acknowledged by ${short(debtor)}, a related party (shared KYC attributes)`,
        details: {
          debtor,
          sharedAttributes: rel.shared,
          receivableIds: entry.receivableIds,
          faceValue: entry.face.toString(),
        },
        evidence: cap([...entry.refs, self.admitted, rel.party.admitted], ctx.params.maxEvidence),
      };
    });
}

// ---------------------------------------------------------------- farmed history

function farmedHistory(ctx: Ctx): RiskFlag[] {
  const { state, borrower, asOf, params } = ctx;
  const windowStart = asOf - params.farmWindowDays * DAY;
  const recent: OrderEntity[] = [];
  const prior: bigint[] = [];
  for (const id of state.ordersByParty[borrower] ?? []) {
    const o = state.orders[id];
    if (!o) continue;
    if (orderLiveIn(o, windowStart, asOf)) recent.push(o);
    else if (o.createdAt < windowStart && orderLiveIn(o, -Infinity, asOf)) prior.push(o.amount);
  }
  if (recent.length < params.farmMinOrders) return [];

  // "Small" is relative to the borrower's own usual order when it has one, absolute otherwise.
  let smallMax = params.farmSmallOrderMax;
  let smallBasis: "prior_median" | "absolute" = "absolute";
  if (prior.length >= params.farmMinPriorOrders) {
    prior.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const median = prior[Math.floor((prior.length - 1) / 2)];
    smallMax = (median * BigInt(Math.round(params.farmSmallFraction * 10_000))) / 10_000n;
    smallBasis = "prior_median";
  }

  const otherOrders = new Map<Address, number>();
  const thin = (party: Address): boolean => {
    let n = otherOrders.get(party);
    if (n === undefined) {
      n = 0;
      for (const id of state.ordersByParty[party] ?? []) {
        const o = state.orders[id];
        if (o && o.createdAt <= asOf && o.buyer !== borrower && o.supplier !== borrower) n += 1;
      }
      otherOrders.set(party, n);
    }
    return n <= params.farmThinMaxOtherOrders;
  };

  const suspicious = recent.filter((o) => o.amount <= smallMax && thin(o.buyer === borrower ? o.supplier : o.buyer));
  const share = ratio(BigInt(suspicious.length), BigInt(recent.length));
  if (suspicious.length < params.farmMinOrders || share < params.farmMinShare) return [];
  const counterparties = [...new Set(suspicious.map((o) => (o.buyer === borrower ? o.supplier : o.buyer)))].sort(cmpStr);
  return [
    {
      code: "farmed_history",
      severity: "warn",
      summary: `${suspicious.length} small orders in the ${params.farmWindowDays} days before ${isoDay(asOf)} with ${counterparties.length} counterparties that have little other history`,
      details: {
        windowDays: params.farmWindowDays,
        orderIds: suspicious.map((o) => o.id),
        orderCount: suspicious.length,
        ordersInWindow: recent.length,
        share,
        smallOrderMax: smallMax.toString(),
        smallOrderBasis: smallBasis,
        totalAmount: suspicious.reduce((s, o) => s + o.amount, 0n).toString(),
        counterparties: counterparties.map((c) => ({ address: c, otherOrders: otherOrders.get(c) ?? 0 })),
      },
      evidence: cap(suspicious.map(createdRef), params.maxEvidence),
    },
  ];
}

// ---------------------------------------------------------------- buyer concentration

function buyerConcentration(ctx: Ctx): RiskFlag[] {
  const { state, borrower, asOf, params } = ctx;
  const from = asOf - params.concentrationWindowDays * DAY;
  const byBuyer = new Map<Address, { value: bigint; orders: OrderEntity[] }>();
  let total = 0n;
  let count = 0;
  for (const id of state.ordersByParty[borrower] ?? []) {
    const o = state.orders[id];
    if (!o || o.supplier !== borrower || !orderLiveIn(o, from, asOf)) continue;
    let entry = byBuyer.get(o.buyer);
    if (!entry) byBuyer.set(o.buyer, (entry = { value: 0n, orders: [] }));
    entry.value += o.amount;
    entry.orders.push(o);
    total += o.amount;
    count += 1;
  }
  if (count < params.concentrationMinOrders || total === 0n) return [];
  const [top, entry] = [...byBuyer.entries()].sort(([a, x], [b, y]) => (x.value > y.value ? -1 : x.value < y.value ? 1 : cmpStr(a, b)))[0];
  const share = ratio(entry.value, total);
  if (share <= params.concentrationShare) return [];
  return [
    {
      code: "buyer_concentration",
      severity: "warn",
      summary: `${short(top)} accounts for ${(share * 100).toFixed(1)}% of the borrower's order value in ${params.concentrationWindowDays} days (threshold ${(params.concentrationShare * 100).toFixed(1)}%)`,
      details: {
        buyer: top,
        share,
        threshold: params.concentrationShare,
        buyerValue: entry.value.toString(),
        totalValue: total.toString(),
        buyerOrders: entry.orders.length,
        orders: count,
        distinctBuyers: byBuyer.size,
        windowDays: params.concentrationWindowDays,
      },
      evidence: cap(entry.orders.map(createdRef), params.maxEvidence),
    },
  ];
}

// ---------------------------------------------------------------- selective leniency

/**
 * A buyer that never disputes a shipment from the borrower while disputing a good share of what
 * other suppliers ship it: a sign the two trade on paper only, or collude.
 */
function selectiveLeniency(ctx: Ctx): RiskFlag[] {
  const { state, borrower, asOf, params } = ctx;
  const from = asOf - params.leniencyWindowDays * DAY;
  const shippedIn = (o: OrderEntity) => o.shippedAt !== undefined && o.shippedAt >= from && o.shippedAt <= asOf;
  const disputed = (o: OrderEntity) => o.disputes.some((d) => d.at <= asOf);
  const fromBorrower = new Map<Address, OrderEntity[]>();
  for (const id of state.ordersByParty[borrower] ?? []) {
    const o = state.orders[id];
    if (!o || o.supplier !== borrower || !shippedIn(o)) continue;
    const list = fromBorrower.get(o.buyer) ?? [];
    list.push(o);
    fromBorrower.set(o.buyer, list);
  }
  const flags: RiskFlag[] = [];
  for (const [buyer, mine] of [...fromBorrower.entries()].sort(([a], [b]) => cmpStr(a, b))) {
    if (mine.length < params.leniencyMinOrders || mine.some(disputed)) continue;
    const others = (state.ordersByParty[buyer] ?? [])
      .map((id) => state.orders[id])
      .filter((o): o is OrderEntity => !!o && o.buyer === buyer && o.supplier !== borrower && shippedIn(o));
    const disputedElsewhere = others.filter(disputed);
    const rate = ratio(BigInt(disputedElsewhere.length), BigInt(others.length));
    if (others.length < params.leniencyMinOrders || rate < params.leniencyDisputeRate) continue;
    const disputeRefs = disputedElsewhere.flatMap((o) => o.events.filter((e) => e.event === "OrderDisputed" && e.at <= asOf));
    flags.push({
      code: "selective_leniency",
      severity: "warn",
      summary: `${short(buyer)} disputed none of ${mine.length} shipments from the borrower but ${disputedElsewhere.length} of ${others.length} from other suppliers`,
      details: {
        buyer,
        windowDays: params.leniencyWindowDays,
        borrowerShipments: mine.length,
        otherShipments: others.length,
        otherDisputed: disputedElsewhere.length,
        otherDisputeRate: rate,
        borrowerOrderIds: mine.map((o) => o.id),
        disputedOrderIds: disputedElsewhere.map((o) => o.id),
      },
      evidence: cap([...disputeRefs, ...mine.map((o) => o.events.find((e) => e.event === "OrderShipped"))], params.maxEvidence),
    });
  }
  return flags;
}

// ---------------------------------------------------------------- helpers

function createdRef(order: OrderEntity): EventRef {
  return order.events.find((e) => e.event === "OrderCreated") ?? order.events[0];
}

/** Distinct refs in chain order, at most `max`. */
function cap(refs: (EventRef | undefined)[], max: number): EventRef[] {
  const seen = new Map<string, EventRef>();
  for (const r of refs) if (r) seen.set(`${r.txHash}:${r.logIndex}`, r);
  return [...seen.values()].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex).slice(0, max);
}

/** a/b rounded to 4 decimals, computed on integers so it is the same on every run. */
function ratio(a: bigint, b: bigint): number {
  return b === 0n ? 0 : Number((a * 10_000n) / b) / 10_000;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function short(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

function isoDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
