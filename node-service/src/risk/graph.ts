/**
 * The trade graph: participants as nodes, an edge buyer -> supplier for the orders between them in a
 * time window. Built lazily from the per-party order lists, so screening one borrower reads only the
 * neighbourhood it walks, never the whole index.
 */
import type { Address, IndexState, OrderEntity } from "../domain/entities";

export interface TradeEdge {
  buyer: Address;
  supplier: Address;
  /** Orders on this edge in the window, in creation order. */
  orderIds: string[];
  total: bigint;
}

export interface TradeGraph {
  /** Edges from `buyer` to each supplier it ordered from in the window, suppliers in address order. */
  suppliersOf(buyer: Address): TradeEdge[];
  /** The buyers that ordered from `supplier` in the window, in address order. */
  buyersOf(supplier: Address): Address[];
  /** Edges into `supplier` (each buyer's orders from it in the window), buyers in address order. */
  buyerEdgesOf(supplier: Address): TradeEdge[];
  edge(buyer: Address, supplier: Address): TradeEdge | undefined;
}

/** An order counts in [from, to] if it was created then and not cancelled by `to`. */
export function orderLiveIn(order: OrderEntity, from: number, to: number): boolean {
  if (order.createdAt < from || order.createdAt > to) return false;
  return order.cancelledAt === undefined || order.cancelledAt > to;
}

export function createTradeGraph(state: IndexState, window: { from: number; to: number }): TradeGraph {
  const memo = new Map<Address, Map<Address, TradeEdge>>();

  function edgesFrom(buyer: Address): Map<Address, TradeEdge> {
    let edges = memo.get(buyer);
    if (edges) return edges;
    const unsorted = new Map<Address, TradeEdge>();
    for (const id of state.ordersByParty[buyer] ?? []) {
      const order = state.orders[id];
      if (!order || order.buyer !== buyer || !orderLiveIn(order, window.from, window.to)) continue;
      let edge = unsorted.get(order.supplier);
      if (!edge) {
        edge = { buyer, supplier: order.supplier, orderIds: [], total: 0n };
        unsorted.set(order.supplier, edge);
      }
      edge.orderIds.push(order.id);
      edge.total += order.amount;
    }
    // Address order makes every walk over the graph, and so every flag, deterministic.
    edges = new Map([...unsorted.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    memo.set(buyer, edges);
    return edges;
  }

  const memoIn = new Map<Address, TradeEdge[]>();
  function buyerEdgesOf(supplier: Address): TradeEdge[] {
    let edges = memoIn.get(supplier);
    if (edges) return edges;
    const byBuyer = new Map<Address, TradeEdge>();
    for (const id of state.ordersByParty[supplier] ?? []) {
      const order = state.orders[id];
      if (!order || order.supplier !== supplier || !orderLiveIn(order, window.from, window.to)) continue;
      let edge = byBuyer.get(order.buyer);
      if (!edge) byBuyer.set(order.buyer, (edge = { buyer: order.buyer, supplier, orderIds: [], total: 0n }));
      edge.orderIds.push(order.id);
      edge.total += order.amount;
    }
    edges = [...byBuyer.values()].sort((a, b) => (a.buyer < b.buyer ? -1 : a.buyer > b.buyer ? 1 : 0));
    memoIn.set(supplier, edges);
    return edges;
  }

  return {
    suppliersOf: (buyer) => [...edgesFrom(buyer).values()],
    buyersOf: (supplier) => buyerEdgesOf(supplier).map((e) => e.buyer),
    buyerEdgesOf,
    edge: (buyer, supplier) => edgesFrom(buyer).get(supplier),
  };
}

export interface CycleSearch {
  /** Each cycle as the participants in buyer -> supplier order, starting at the start node. */
  cycles: Address[][];
  /** True when the search stopped at maxCycles or the budget before walking everything. */
  truncated: boolean;
  /** Edge expansions used (backward and forward): what the budget bounds. */
  expansions: number;
}

/**
 * Simple directed cycles through `start` of length minLength..maxLength whose every edge carries at
 * least `minEdgeTotal` in the window. A forward breadth-first pass from `start` (over edges heavy
 * enough) marks what start reaches, a backward pass over those nodes gives each its distance back to
 * `start`; the depth-first walk then only enters a node from which `start` is reachable within the
 * remaining length, so the search reads the neighbourhood that can close a cycle, not everything
 * within maxLength hops. Bounded by the length,
 * the cycle count and an edge-expansion budget shared by both passes.
 */
export function findCyclesThrough(
  graph: TradeGraph,
  start: Address,
  opts: { minLength: number; maxLength: number; maxCycles: number; budget: number; minEdgeTotal?: bigint },
): CycleSearch {
  const minEdge = opts.minEdgeTotal ?? 0n;
  let budget = opts.budget;
  let truncated = false;

  // Forward pass: the nodes start reaches within maxLength - 1 heavy edges (every node of a cycle is one).
  const fromStart = new Set<Address>([start]);
  let frontier: Address[] = [start];
  for (let d = 1; d < opts.maxLength && frontier.length > 0 && !truncated; d++) {
    const next: Address[] = [];
    for (const v of frontier) {
      for (const e of graph.suppliersOf(v)) {
        if (budget <= 0) {
          truncated = true;
          break;
        }
        budget -= 1;
        if (e.total < minEdge || fromStart.has(e.supplier)) continue;
        fromStart.add(e.supplier);
        next.push(e.supplier);
      }
      if (truncated) break;
    }
    frontier = next;
  }

  // Backward pass over those nodes: toStart.get(v) = fewest heavy edges from v back to start. Along
  // any cycle this is at most the cycle's own way back, so the walk below never cuts a cycle off.
  const toStart = new Map<Address, number>([[start, 0]]);
  frontier = [start];
  for (let d = 1; d < opts.maxLength && frontier.length > 0 && !truncated; d++) {
    const next: Address[] = [];
    for (const v of frontier) {
      for (const e of graph.buyerEdgesOf(v)) {
        if (budget <= 0) {
          truncated = true;
          break;
        }
        budget -= 1;
        if (e.total < minEdge || toStart.has(e.buyer) || !fromStart.has(e.buyer)) continue;
        toStart.set(e.buyer, d);
        next.push(e.buyer);
      }
      if (truncated) break;
    }
    frontier = next;
  }

  const cycles: Address[][] = [];
  const path: Address[] = [start];
  const onPath = new Set<Address>([start]);

  function walk(node: Address): void {
    for (const edge of graph.suppliersOf(node)) {
      if (cycles.length >= opts.maxCycles || budget <= 0) {
        truncated = true;
        return;
      }
      budget -= 1;
      if (edge.total < minEdge) continue;
      const next = edge.supplier;
      if (next === start) {
        if (path.length >= opts.minLength) cycles.push([...path]);
        continue;
      }
      const back = toStart.get(next);
      // Enter `next` only if start is reachable from it within the length left.
      if (back === undefined || onPath.has(next) || path.length + back > opts.maxLength) continue;
      path.push(next);
      onPath.add(next);
      walk(next);
      path.pop();
      onPath.delete(next);
    }
  }

  walk(start);
  return { cycles, truncated, expansions: opts.budget - budget };
}
