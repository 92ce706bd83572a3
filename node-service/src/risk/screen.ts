/**
 * Fraud screening of one borrower as of a point in time: a pure function of the index, so the same
 * state and `asOf` always give the same flags in the same order. Every flag carries the on-chain
 * events behind it (EventRef), and its summary and details name the subgraph or transfers behind it,
 * so a lender can re-check it against any node.
 *
 * Only facts dated at or before `asOf` count (an order cancelled later still counts as live then),
 * which keeps a screening reproducible from a later, larger index.
 */
import { zeroHash as ZERO_HASH, type Hex } from "viem";
import type { Address, EventRef, IndexState, OrderEntity, ParticipantEntity, TransferEntity } from "../domain/entities";
import { decodeAttribute, type DecodedAttribute } from "../domain/kyc-attributes";
import { createTradeGraph, findCyclesThrough, orderLiveIn } from "./graph";
import { DAY } from "../domain/time";
import { CURRENCY, formatMoney } from "../domain/money";
import { resolveRiskParams, type RiskParams } from "./params";

export type RiskFlagCode =
  | "circular_trading"
  | "related_party"
  | "farmed_history"
  | "buyer_concentration"
  | "related_party_acknowledgment"
  | "selective_leniency"
  | "round_tripping"
  | "reused_document";

export type RiskSeverity = "info" | "warn" | "block";

export interface RiskFlag {
  /** One of RiskFlagCode; typed as string so a policy can name flags added later. */
  code: string;
  severity: RiskSeverity;
  /** In English; describeFlag gives the same as a message code with parameters, for other languages. */
  summary: string;
  /** JSON-native values only (amounts as decimal strings), so a flag survives a JSON round trip unchanged. */
  details: Record<string, unknown>;
  evidence: EventRef[];
}

export const SEVERITY_RANK: Record<RiskSeverity, number> = { info: 0, warn: 1, block: 2 };

export function screenBorrower(state: IndexState, borrower: Address, opts: { asOf: number; params?: Partial<RiskParams> }): RiskFlag[] {
  const params = resolveRiskParams(opts.params);
  const who = borrower.toLowerCase() as Address;
  const ctx: Ctx = { state, borrower: who, asOf: opts.asOf, params };
  const related = relatedParties(ctx);
  return [
    ...circularTrading(ctx),
    ...relatedPartyFlags(ctx, related),
    ...relatedPartyAcknowledgments(ctx, related),
    ...roundTripping(ctx, related),
    ...reusedDocuments(ctx),
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

/**
 * Value-weighted rings: a cycle of orders through the borrower counts when each of its edges carries
 * at least cycleMinEdgeShare of the borrower's own trade in the window and its smallest edge is at
 * least cycleMinBalance of its largest. Goods and money going round in amounts that matter make a
 * ring, whoever else (legitimate parties included) sits on it; a closed scrap loop whose third leg is
 * a few percent of the others does not.
 */
function circularTrading(ctx: Ctx): RiskFlag[] {
  const { params, asOf, borrower } = ctx;
  const window = { from: asOf - params.cycleWindowDays * DAY, to: asOf };
  const graph = createTradeGraph(ctx.state, window);
  let volume = 0n;
  for (const e of graph.suppliersOf(borrower)) volume += e.total;
  for (const e of graph.buyerEdgesOf(borrower)) volume += e.total;
  if (volume === 0n) return [];
  const minEdgeTotal = maxBig(1n, (volume * bps(params.cycleMinEdgeShare)) / 10_000n);
  const search = findCyclesThrough(graph, borrower, {
    minLength: params.minCycleLength,
    maxLength: params.maxCycleLength,
    maxCycles: params.maxCycles,
    budget: params.cycleSearchBudget,
    minEdgeTotal,
  });
  const flags: RiskFlag[] = [];
  for (const members of search.cycles) {
    const edges = members.map((buyer, i) => graph.edge(buyer, members[(i + 1) % members.length])!);
    const totals = edges.map((e) => e.total);
    const smallest = totals.reduce((m, t) => (t < m ? t : m));
    const largest = totals.reduce((m, t) => (t > m ? t : m));
    const balance = ratio(smallest, largest);
    if (balance < params.cycleMinBalance) continue;
    const orderIds = edges.flatMap((e) => e.orderIds);
    const steps = edges.map((e) => `${short(e.buyer)} buys ${amount(e.total)} from ${short(e.supplier)}`).join(", ");
    flags.push({
      code: "circular_trading",
      severity: "block",
      summary: `Trade cycle of ${members.length} participants within ${params.cycleWindowDays} days carrying at least ${amount(smallest)} round: ${steps}`,
      details: {
        members,
        length: members.length,
        windowDays: params.cycleWindowDays,
        edges: edges.map((e) => ({ buyer: e.buyer, supplier: e.supplier, orderIds: e.orderIds, total: e.total.toString() })),
        orderCount: orderIds.length,
        smallestEdge: smallest.toString(),
        balance,
        borrowerVolume: volume.toString(),
        shareOfBorrowerVolume: ratio(smallest, volume),
        maxCycleLength: params.maxCycleLength,
        searchTruncated: search.truncated,
      },
      evidence: cap(
        orderIds.map((id) => createdRef(ctx.state.orders[id])),
        params.maxEvidence,
      ),
    });
  }
  return flags;
}

// ---------------------------------------------------------------- related parties

/** One link of a relatedness path: `from` and `to` share these attribute values. */
interface Link {
  from: Address;
  to: Address;
  /** Each shared value as the two kinds it has on either side, and the hash on `to`'s side. */
  shared: { fromKind: string; toKind: string; hash: Hex }[];
  strength: number;
}

interface Related {
  party: ParticipantEntity;
  /** Links from the borrower to `party`, in order. */
  path: Link[];
  strength: number;
}

/** The participant's attribute hashes in force at `asOf` (an update after it does not count yet). */
function attributesOf(p: ParticipantEntity, asOf: number): DecodedAttribute[] {
  const then = p.kycHistory?.find((h) => h.until > asOf)?.kycAttributes ?? p.kycAttributes;
  return then.filter((h) => h.toLowerCase() !== ZERO_HASH).map(decodeAttribute);
}

/**
 * Participants admitted by `asOf` related to the borrower: reachable over shared KYC attribute values
 * within relatedMaxHops links, each link's strength 1 - prod(1 - weight) over the values the two
 * share (the weaker side's kind weight), a path's strength the product of its links; kept when it
 * reaches relatedMinStrength. A value shared by more than relatedMaxFanout participants is common (a
 * registered agent's address) and links no one. Strongest path first found wins (breadth first,
 * then by strength), so the evidence is the shortest strong chain.
 */
function relatedParties(ctx: Ctx): Related[] {
  const { state, params, asOf } = ctx;
  const self = state.participants[ctx.borrower];
  if (!self) return [];
  const best = new Map<Address, Related>();
  let frontier: { party: ParticipantEntity; path: Link[]; strength: number }[] = [{ party: self, path: [], strength: 1 }];
  const seen = new Set<Address>([self.address]);
  for (let hop = 1; hop <= params.relatedMaxHops && frontier.length > 0; hop++) {
    const next = new Map<Address, Related>();
    for (const node of frontier) {
      const links = new Map<Address, { keep: number; shared: Link["shared"] }>();
      for (const mine of attributesOf(node.party, asOf)) {
        const holders = state.participantsByAttribute[mine.value] ?? [];
        if (holders.length > params.relatedMaxFanout) continue;
        for (const other of holders) {
          if (seen.has(other) || other === node.party.address) continue;
          const party = state.participants[other];
          if (!party || party.admittedAt > asOf) continue;
          const theirs = attributesOf(party, asOf).find((a) => a.value === mine.value);
          if (!theirs) continue;
          let link = links.get(other);
          if (!link) links.set(other, (link = { keep: 1, shared: [] }));
          link.keep *= 1 - Math.min(mine.weight, theirs.weight);
          link.shared.push({ fromKind: mine.kind, toKind: theirs.kind, hash: theirs.hash });
        }
      }
      for (const [other, link] of links) {
        const strength = node.strength * (1 - link.keep);
        if (strength < params.relatedMinStrength) continue;
        const prev = next.get(other);
        if (prev && prev.strength >= strength) continue;
        const step: Link = { from: node.party.address, to: other, shared: link.shared, strength: round4(1 - link.keep) };
        next.set(other, { party: state.participants[other], path: [...node.path, step], strength: round4(strength) });
      }
    }
    for (const [address, rel] of next) {
      seen.add(address);
      best.set(address, rel);
    }
    frontier = [...next.values()];
  }
  return [...best.values()].sort((a, b) => cmpStr(a.party.address, b.party.address));
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

function pathJson(path: Link[]): unknown[] {
  return path.map((l) => ({ from: l.from, to: l.to, strength: l.strength, shared: l.shared.map((x) => ({ ...x })) }));
}

function pathText(path: Link[]): string {
  return path
    .map(
      (l) =>
        `${short(l.from)} -[${[...new Set(l.shared.map((x) => (x.fromKind === x.toKind ? x.fromKind : `${x.fromKind}/${x.toKind}`)))].join(", ")}]-> ${short(l.to)}`,
    )
    .join(" ");
}

function pathRefs(ctx: Ctx, rel: Related): EventRef[] {
  return [ctx.state.participants[ctx.borrower].admitted, ...rel.path.map((l) => ctx.state.participants[l.to].admitted)];
}

/**
 * Related participants the borrower traded with (warn) or that share an attribute with it directly
 * without trading (info). Related parties further away that never traded with it are left out: they
 * matter through the acknowledgment and round-tripping flags.
 */
function relatedPartyFlags(ctx: Ctx, related: Related[]): RiskFlag[] {
  const flags: RiskFlag[] = [];
  for (const rel of related) {
    const orders = ordersBetween(ctx, rel.party.address);
    const traded = orders.length > 0;
    if (!traded && rel.path.length > 1) continue;
    flags.push({
      code: "related_party",
      // Sharing a representative or an account matters most when the two also trade with each other.
      severity: traded ? "warn" : "info",
      summary: `${short(rel.party.address)} is related to the borrower (${pathText(rel.path)}, strength ${rel.strength})${traded ? ` and traded with it in ${orders.length} order(s)` : ""}`,
      details: {
        party: rel.party.address,
        hops: rel.path.length,
        strength: rel.strength,
        path: pathJson(rel.path),
        sharedAttributes: [...new Set(rel.path[rel.path.length - 1].shared.map((x) => x.hash))].sort(),
        tradedWith: traded,
        orderIds: orders.map((o) => o.id),
      },
      evidence: cap([...pathRefs(ctx, rel), ...orders.map(createdRef)], ctx.params.maxEvidence),
    });
  }
  return flags;
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
    if (entry.receivableIds.includes(r.id)) continue;
    entry.receivableIds.push(r.id);
    entry.face += r.faceValue;
    const ack = r.events.find((e) => e.event === "ReceivableAcknowledged");
    if (ack) entry.refs.push(ack);
  }
  return [...byDebtor.entries()]
    .sort(([a], [b]) => cmpStr(a, b))
    .map(([debtor, entry]) => {
      const rel = byAddress.get(debtor)!;
      return {
        code: "related_party_acknowledgment",
        severity: "warn",
        summary: `${entry.receivableIds.length} receivable(s) of the borrower acknowledged by ${short(debtor)}, a related party (${pathText(rel.path)})`,
        details: {
          debtor,
          hops: rel.path.length,
          strength: rel.strength,
          path: pathJson(rel.path),
          sharedAttributes: [...new Set(rel.path[rel.path.length - 1].shared.map((x) => x.hash))].sort(),
          receivableIds: entry.receivableIds,
          faceValue: entry.face.toString(),
        },
        evidence: cap([...entry.refs, ...pathRefs(ctx, rel)], ctx.params.maxEvidence),
      };
    });
}

// ---------------------------------------------------------------- round-tripping

/** The transfers of `party` in chain order with lo < at <= hi (the per-party list is in chain order, so times ascend). */
function transfersIn(state: IndexState, party: Address, lo: number, hi: number): TransferEntity[] {
  const ids = state.transfersByParty[party] ?? [];
  let a = 0;
  let b = ids.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (state.transfers[ids[m]].at <= lo) a = m + 1;
    else b = m;
  }
  const out: TransferEntity[] = [];
  for (let i = a; i < ids.length; i++) {
    const t = state.transfers[ids[i]];
    if (t.at > hi) break;
    out.push(t);
  }
  return out;
}

interface Trace {
  /** Transfers from the source on, one per hop. */
  chain: TransferEntity[];
  /** Value of the source still traced on the last transfer. */
  traced: bigint;
}

/**
 * Money that left the borrower and came back: each outgoing transfer of the borrower in the lookback
 * is followed forward through intermediaries' onward transfers made within roundTripHoldDays, each
 * onward transfer carrying the traced value in proportion to the intermediary's balance right after
 * receiving it (a business with money of its own passes on little of it). What reaches the borrower again after
 * at least one intermediary, or reaches a related party of the borrower (directly too when the money
 * was a loan disbursed within roundTripHoldDays before), counts as returned; a flag
 * when the returned value is at least roundTripMinShare of the transfer and roundTripMinAmount. A
 * disbursement the borrower received shortly before is named as the money's origin.
 */
function roundTripping(ctx: Ctx, related: Related[]): RiskFlag[] {
  const { state, borrower, asOf, params } = ctx;
  const hold = params.roundTripHoldDays * DAY;
  const relatedSet = new Map(related.map((r) => [r.party.address, r]));
  let budget = params.roundTripBudget;
  const flags: RiskFlag[] = [];
  // Balance of a party just after one of its transfers, from its indexed transfers (prefix sums, per party).
  const prefix = new Map<Address, { index: Map<string, number>; after: bigint[] }>();
  const balanceAfter = (party: Address, t: TransferEntity): bigint => {
    let p = prefix.get(party);
    if (!p) {
      const ids = state.transfersByParty[party] ?? [];
      const after: bigint[] = [];
      let b = 0n;
      for (const id of ids) {
        const x = state.transfers[id];
        if (x.to === party) b += x.amount;
        if (x.from === party) b -= x.amount;
        after.push(b);
      }
      prefix.set(party, (p = { index: new Map(ids.map((id, i) => [id, i])), after }));
      budget -= ids.length;
    }
    const i = p.index.get(t.id);
    return i === undefined ? t.amount : p.after[i];
  };

  // A transfer too small to come back as roundTripMinAmount is not followed; nor is a traced part
  // below a tenth of the share that would make a flag (many such crumbs cannot add up to it in practice).
  const sources = transfersIn(state, borrower, asOf - params.roundTripLookbackDays * DAY, asOf).filter(
    (t) => t.from === borrower && t.to !== borrower && t.amount >= params.roundTripMinAmount,
  );
  if (sources.length === 0) return [];
  // Money can only come back as an inflow of the borrower (from someone else) or of a related party:
  // a source with no such inflow within maxHops x holdDays after it is not walked (a buyer that
  // only pays its suppliers has thousands of sources and no inflows).
  const reach = params.roundTripMaxHops * hold;
  const inflowTimes: number[] = [];
  for (const party of [borrower, ...relatedSet.keys()]) {
    for (const t of transfersIn(state, party, sources[0].at - 1, asOf)) {
      if (t.to === party && t.from !== party && BigInt(t.from) !== 0n && t.amount > 0n) inflowTimes.push(t.at);
    }
  }
  inflowTimes.sort((x, y) => x - y);
  const inflowAfter = (at: number): boolean => {
    let a = 0;
    let b = inflowTimes.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (inflowTimes[m] < at) a = m + 1;
      else b = m;
    }
    return a < inflowTimes.length && inflowTimes[a] <= at + reach;
  };
  for (const source of sources) {
    if (budget <= 0) break;
    if (!inflowAfter(source.at) && !(relatedSet.has(source.to) && recentDisbursement(ctx, source.at, hold))) continue;
    const returns: Trace[] = [];
    const disbursement = recentDisbursement(ctx, source.at, hold);
    const crumb = (source.amount * bps(params.roundTripMinShare)) / 100_000n;
    const walk = (trace: Trace): void => {
      const last = trace.chain[trace.chain.length - 1];
      const node = last.to;
      if (trace.chain.length > 1 && node === borrower) {
        returns.push(trace);
        return;
      }
      if (relatedSet.has(node)) {
        // Paying a related party directly is trade with it (the related-party flags show it) unless
        // the money is a loan's, just disbursed: then it is diverted.
        if (trace.chain.length > 1 || disbursement) returns.push(trace);
        return;
      }
      if (node === borrower || trace.chain.length >= params.roundTripMaxHops) return;
      // The traced value is this share of what `node` held right after receiving it (a business with
      // money of its own passes on little of it); its onward transfers carry that share.
      const held = maxBig(balanceAfter(node, last), trace.traced);
      let left = trace.traced;
      for (const t of transfersIn(state, node, last.at - 1, Math.min(asOf, last.at + hold))) {
        if (budget-- <= 0 || left <= 0n) break;
        if (t.from !== node || t.to === node || trace.chain.includes(t)) continue;
        if (t.at === last.at && t.ref.logIndex < last.ref.logIndex && t.ref.blockNumber === last.ref.blockNumber) continue;
        const share = minBig(left, (t.amount * trace.traced) / held);
        if (share <= 0n || share < crumb) continue;
        left -= share;
        walk({ chain: [...trace.chain, t], traced: share });
      }
    };
    walk({ chain: [source], traced: source.amount });
    if (returns.length === 0) continue;
    const returned = returns.reduce((s, r) => s + r.traced, 0n);
    if (returned < params.roundTripMinAmount || ratio(returned, source.amount) < params.roundTripMinShare) continue;
    const transfers = [...new Map(returns.flatMap((r) => r.chain).map((t) => [t.id, t])).values()];
    const routes = returns.map((r) => ({
      to: r.chain[r.chain.length - 1].to,
      toRelatedParty: relatedSet.has(r.chain[r.chain.length - 1].to),
      traced: r.traced.toString(),
      transfers: r.chain.map((t) => ({
        id: t.id,
        from: t.from,
        to: t.to,
        amount: t.amount.toString(),
        at: t.at,
        txHash: t.ref.txHash,
        cause: causeOf(state, t),
      })),
    }));
    const first = returns[0].chain;
    flags.push({
      code: "round_tripping",
      severity: "block",
      summary:
        `${amount(returned)} of ${amount(source.amount)} the borrower paid to ${short(source.to)} on ${isoDay(source.at)}` +
        `${disbursement ? ` (after loan ${disbursement.loanId} was disbursed)` : ""} came back to the borrower or a related party, e.g. ` +
        first.map((t) => `${short(t.from)} -> ${short(t.to)} ${amount(t.amount)} (${causeOf(state, t)})`).join(", "),
      details: {
        source: {
          id: source.id,
          to: source.to,
          amount: source.amount.toString(),
          at: source.at,
          txHash: source.ref.txHash,
          cause: causeOf(state, source),
        },
        fundedByLoan: disbursement?.loanId ?? null,
        returned: returned.toString(),
        share: ratio(returned, source.amount),
        routes,
        holdDays: params.roundTripHoldDays,
        maxHops: params.roundTripMaxHops,
      },
      evidence: cap([...(disbursement ? [disbursement.ref] : []), ...transfers.map((t) => t.ref)], params.maxEvidence),
    });
  }
  return flags;
}

/** What the transaction of a transfer did in the project's contracts (a receivable payment, a disbursement...), or "transfer". */
function causeOf(state: IndexState, t: TransferEntity): string {
  const evs = state.eventsByTx[t.ref.txHash] ?? [];
  return evs.length > 0 ? [...new Set(evs.map((e) => e.event))].join("+") : "transfer";
}

function recentDisbursement(ctx: Ctx, at: number, hold: number): { loanId: string; ref: EventRef } | undefined {
  let found: { loanId: string; ref: EventRef } | undefined;
  for (const id of ctx.state.loansByParty[ctx.borrower] ?? []) {
    const loan = ctx.state.loans[id];
    if (!loan || loan.borrower !== ctx.borrower || loan.disbursedAt === undefined) continue;
    if (loan.disbursedAt > at || loan.disbursedAt < at - hold) continue;
    const ref = loan.events.find((e) => e.event === "LoanDisbursed");
    if (ref && (!found || ref.at > found.ref.at)) found = { loanId: loan.id, ref };
  }
  return found;
}

// ---------------------------------------------------------------- reused purchase-order documents

/**
 * A purchase-order document hash on more than one order. On orders between other parties it is a
 * block (one document cannot evidence two different trades, or one is financed twice); between the
 * same two parties only it is information (call-offs under one framework order look like this).
 */
function reusedDocuments(ctx: Ctx): RiskFlag[] {
  const { state, borrower, asOf, params } = ctx;
  const from = asOf - params.documentLookbackDays * DAY;
  const done = new Set<string>();
  const flags: RiskFlag[] = [];
  for (const id of state.ordersByParty[borrower] ?? []) {
    const o = state.orders[id];
    if (!o || o.createdAt < from || o.createdAt > asOf) continue;
    // The index keys documents in lower case, which is how the decoder writes them.
    if ((state.ordersByDocument[o.documentHash]?.length ?? 2) < 2) continue;
    const hash = o.documentHash.toLowerCase() as Hex;
    if ((state.ordersByDocument[hash]?.length ?? 0) < 2 || done.has(hash) || hash === ZERO_HASH) continue;
    done.add(hash);
    const sharing = (state.ordersByDocument[hash] ?? [])
      .map((k) => state.orders[k])
      .filter((x): x is OrderEntity => !!x && x.createdAt <= asOf);
    if (sharing.length < 2) continue;
    const pairs = [...new Set(sharing.map((x) => `${x.buyer}>${x.supplier}`))];
    const crossParty = pairs.length > 1;
    flags.push({
      code: "reused_document",
      severity: crossParty ? "block" : "info",
      summary: `Purchase-order document ${hash.slice(0, 10)}… is on ${sharing.length} orders${crossParty ? ` between ${pairs.length} different buyer/supplier pairs` : " between the same buyer and supplier"}: orders ${sharing.map((x) => x.id).join(", ")}`,
      details: {
        documentHash: hash,
        orders: sharing.map((x) => ({
          id: x.id,
          buyer: x.buyer,
          supplier: x.supplier,
          amount: x.amount.toString(),
          createdAt: x.createdAt,
        })),
        pairs: pairs.length,
      },
      evidence: cap(sharing.map(createdRef), params.maxEvidence),
    });
  }
  return flags;
}

// ---------------------------------------------------------------- farmed history

/**
 * Farmed history: a trade record made with captive counterparties. Each counterparty of the borrower
 * is judged against its own trade with everyone (its peers): captive when at least farmCaptiveShare
 * of all the orders it has created or received by `asOf` are with the borrower, it placed at least
 * farmCaptiveMinOrders of them, and it looks made for the purpose: admitted at least
 * farmCaptiveLagDays after the borrower, or its median order with the borrower below the absolute
 * farmSmallOrderMax. Flag when at least farmMinCounterparties captives account for farmMinOrders
 * orders and farmMinShare of the borrower's orders in the lookback, however slowly they were spread
 * out. A new supplier's trial orders with customers that also trade elsewhere, or one order each, and
 * long-standing buyers admitted with the borrower that order at normal sizes, are not this.
 */
function farmedHistory(ctx: Ctx): RiskFlag[] {
  const { state, borrower, asOf, params } = ctx;
  const from = asOf - params.farmLookbackDays * DAY;
  const recent: OrderEntity[] = [];
  for (const id of state.ordersByParty[borrower] ?? []) {
    const o = state.orders[id];
    if (o && o.buyer !== o.supplier && orderLiveIn(o, from, asOf)) recent.push(o);
  }
  if (recent.length < params.farmMinOrders) return [];
  const other = (o: OrderEntity) => (o.buyer === borrower ? o.supplier : o.buyer);
  // Orders created by asOf (cancelled ones included: a relationship is a relationship): with the
  // borrower from its own list, in all from the counterparty's list (creation order: binary search).
  const withBorrower = new Map<Address, bigint[]>();
  for (const id of state.ordersByParty[borrower] ?? []) {
    const o = state.orders[id];
    if (!o || o.buyer === o.supplier || o.createdAt > asOf) continue;
    const list = withBorrower.get(other(o)) ?? [];
    list.push(o.amount);
    withBorrower.set(other(o), list);
  }
  const self = state.participants[borrower];
  const stats = new Map<Address, { withBorrower: number; total: number; why: "admitted_after_borrower" | "small_orders" }>();
  for (const c of new Set(recent.map(other))) {
    const amounts = withBorrower.get(c) ?? [];
    if (amounts.length < params.farmCaptiveMinOrders) continue;
    const party = state.participants[c];
    const lagged = !!self && !!party && party.admittedAt - self.admittedAt >= params.farmCaptiveLagDays * DAY;
    const small = median(amounts) < params.farmSmallOrderMax;
    if (!lagged && !small) continue;
    stats.set(c, {
      withBorrower: amounts.length,
      total: createdBy(state, c, asOf),
      why: lagged ? "admitted_after_borrower" : "small_orders",
    });
  }
  const captive = [...stats.entries()]
    .filter(([, s]) => s.withBorrower >= params.farmCaptiveMinOrders && s.total > 0 && s.withBorrower / s.total >= params.farmCaptiveShare)
    .map(([c]) => c)
    .sort(cmpStr);
  const captiveSet = new Set(captive);
  const farmed = recent.filter((o) => captiveSet.has(other(o)));
  const share = ratio(BigInt(farmed.length), BigInt(recent.length));
  if (captive.length < params.farmMinCounterparties || farmed.length < params.farmMinOrders || share < params.farmMinShare) return [];
  const first = Math.min(...farmed.map((o) => o.createdAt));
  return [
    {
      code: "farmed_history",
      severity: "warn",
      summary: `${farmed.length} of the borrower's ${recent.length} orders since ${isoDay(first)} are with ${captive.length} counterparties that trade almost only with it: ${captive.map((c) => `${short(c)} (${stats.get(c)!.withBorrower}/${stats.get(c)!.total} orders)`).join(", ")}`,
      details: {
        lookbackDays: params.farmLookbackDays,
        orderIds: farmed.map((o) => o.id),
        orderCount: farmed.length,
        ordersInLookback: recent.length,
        share,
        totalAmount: farmed.reduce((s, o) => s + o.amount, 0n).toString(),
        counterparties: captive.map((c) => ({
          address: c,
          ordersWithBorrower: stats.get(c)!.withBorrower,
          ordersInAll: stats.get(c)!.total,
          why: stats.get(c)!.why,
        })),
        captiveShare: params.farmCaptiveShare,
      },
      evidence: cap(farmed.map(createdRef), params.maxEvidence),
    },
  ];
}

function median(xs: bigint[]): bigint {
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return s[Math.floor((s.length - 1) / 2)];
}

/** How many orders of `party` were created at or before `asOf` (its list is in creation order). */
function createdBy(state: IndexState, party: Address, asOf: number): number {
  const ids = state.ordersByParty[party] ?? [];
  let a = 0;
  let b = ids.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (state.orders[ids[m]].createdAt <= asOf) a = m + 1;
    else b = m;
  }
  return a;
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

function bps(share: number): bigint {
  return BigInt(Math.round(share * 10_000));
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** Minor units in major units with the currency, for summaries (details carry the exact minor units). */
const amount = (v: bigint): string => formatMoney(v);

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

// ---------------------------------------------------------------- the summary as a message code

/**
 * A flag's summary as a stable message code with its parameters, for a client that writes it in its own
 * language (the web UI in Chinese and English). Read from the flag's code and details alone, so it works
 * for the flags stored in past decision inputs too, and is not part of the flag: the decision input (and
 * its hash) stays as it was. Every parameter is a string; a key ending in `Amount` is minor units in
 * `params.currency`, in `Ratio` a fraction (0.25), in `At` block time in seconds; addresses are whole,
 * for the client to name. `items` are the list the summary ends with (cycle steps, a path, transfers,
 * counterparties), each written with `itemCode`. A flag whose details lack what the code needs (or an
 * unknown code) gets textCode "other": the client shows the English summary.
 */
export interface FlagText {
  textCode: string;
  params: Record<string, string>;
  itemCode?: string;
  items?: Record<string, string>[];
}

/** Every textCode and itemCode describeFlag writes (the web has a text for each, in each language). */
export const FLAG_TEXT_CODES = {
  text: [
    "circular_trading",
    "related_party",
    "related_party_traded",
    "related_party_acknowledgment",
    "round_tripping",
    "round_tripping_loan",
    "reused_document_pairs",
    "reused_document_same",
    "farmed_history",
    "farmed_history_since",
    "buyer_concentration",
    "selective_leniency",
    "other",
  ],
  item: ["cycle_step", "path_link", "transfer", "captive"],
} as const;

export function describeFlag(flag: Pick<RiskFlag, "code" | "summary" | "details"> & { evidence?: EventRef[] }): FlagText {
  try {
    return describe(flag.code, flag.details, flag.evidence ?? []) ?? { textCode: "other", params: { summary: flag.summary } };
  } catch {
    return { textCode: "other", params: { summary: flag.summary } };
  }
}

type Json = Record<string, unknown>;
const str = (v: unknown): string => {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  throw new Error("not a scalar");
};
const list = (v: unknown): Json[] => {
  if (!Array.isArray(v)) throw new Error("not a list");
  return v as Json[];
};
const pathItems = (path: unknown) =>
  list(path).map((l) => ({
    from: str(l.from),
    to: str(l.to),
    kinds: [
      ...new Set(list(l.shared).map((x) => (x.fromKind === x.toKind ? str(x.fromKind) : `${str(x.fromKind)}/${str(x.toKind)}`))),
    ].join(","),
  }));

function describe(code: string, d: Json, evidence: EventRef[]): FlagText | undefined {
  const currency = CURRENCY.code;
  switch (code) {
    case "circular_trading":
      return {
        textCode: "circular_trading",
        params: { members: str(d.length), windowDays: str(d.windowDays), smallestAmount: str(d.smallestEdge), currency },
        itemCode: "cycle_step",
        items: list(d.edges).map((e) => ({ buyer: str(e.buyer), supplier: str(e.supplier), totalAmount: str(e.total), currency })),
      };
    case "related_party": {
      const orders = list(d.orderIds).length;
      return {
        textCode: d.tradedWith ? "related_party_traded" : "related_party",
        params: { party: str(d.party), strength: str(d.strength), orders: String(orders) },
        itemCode: "path_link",
        items: pathItems(d.path),
      };
    }
    case "related_party_acknowledgment":
      return {
        textCode: "related_party_acknowledgment",
        params: { receivables: String(list(d.receivableIds).length), debtor: str(d.debtor) },
        itemCode: "path_link",
        items: pathItems(d.path),
      };
    case "round_tripping": {
      const source = d.source as Json;
      const first = list(list(d.routes)[0]?.transfers);
      return {
        textCode: d.fundedByLoan === null || d.fundedByLoan === undefined ? "round_tripping" : "round_tripping_loan",
        params: {
          returnedAmount: str(d.returned),
          paidAmount: str(source.amount),
          to: str(source.to),
          paidAt: str(source.at),
          loanId: d.fundedByLoan === null || d.fundedByLoan === undefined ? "" : str(d.fundedByLoan),
          currency,
        },
        itemCode: "transfer",
        items: first.map((t) => ({ from: str(t.from), to: str(t.to), transferAmount: str(t.amount), cause: str(t.cause), currency })),
      };
    }
    case "reused_document": {
      const orders = list(d.orders);
      const pairs = Number(str(d.pairs));
      return {
        textCode: pairs > 1 ? "reused_document_pairs" : "reused_document_same",
        params: {
          document: `${str(d.documentHash).slice(0, 10)}…`,
          orders: String(orders.length),
          pairs: String(pairs),
          orderIds: orders.map((o) => str(o.id)).join(", "),
        },
      };
    }
    case "farmed_history": {
      const counterparties = list(d.counterparties);
      // The English names the first farmed order's day: its OrderCreated is the flag's first evidence
      // (evidence is in chain order and starts with the earliest farmed order), so the date is read from
      // the flag as stored; a flag without evidence says "in the last N days" instead.
      const first = evidence[0];
      const since = first && first.event === "OrderCreated" && Number.isInteger(first.at) ? first.at : undefined;
      return {
        textCode: since === undefined ? "farmed_history" : "farmed_history_since",
        params: {
          farmed: str(d.orderCount),
          recent: str(d.ordersInLookback),
          lookbackDays: str(d.lookbackDays),
          counterparties: String(counterparties.length),
          ...(since === undefined ? {} : { sinceAt: String(since) }),
        },
        itemCode: "captive",
        items: counterparties.map((c) => ({ address: str(c.address), withBorrower: str(c.ordersWithBorrower), total: str(c.ordersInAll) })),
      };
    }
    case "buyer_concentration":
      return {
        textCode: "buyer_concentration",
        params: { buyer: str(d.buyer), shareRatio: str(d.share), thresholdRatio: str(d.threshold), windowDays: str(d.windowDays) },
      };
    case "selective_leniency":
      return {
        textCode: "selective_leniency",
        params: { buyer: str(d.buyer), mine: str(d.borrowerShipments), disputed: str(d.otherDisputed), others: str(d.otherShipments) },
      };
    default:
      return undefined;
  }
}
