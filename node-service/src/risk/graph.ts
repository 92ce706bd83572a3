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

  function buyersOf(supplier: Address): Address[] {
    const buyers = new Set<Address>();
    for (const id of state.ordersByParty[supplier] ?? []) {
      const order = state.orders[id];
      if (order && order.supplier === supplier && orderLiveIn(order, window.from, window.to)) buyers.add(order.buyer);
    }
    return [...buyers].sort();
  }

  return {
    suppliersOf: (buyer) => [...edgesFrom(buyer).values()],
    buyersOf,
    edge: (buyer, supplier) => edgesFrom(buyer).get(supplier),
  };
}

export interface CycleSearch {
  /** Each cycle as the participants in buyer -> supplier order, starting at the start node. */
  cycles: Address[][];
  /** True when the search stopped at maxCycles or the budget before walking everything. */
  truncated: boolean;
}

/**
 * Simple directed cycles through `start` of length minLength..maxLength (depth-first, bounded by the
 * length, the cycle count and an edge-expansion budget). The edges back into `start` are read once
 * from start's own orders, so the last hop of a path never loads another participant's orders.
 */
export function findCyclesThrough(
  graph: TradeGraph,
  start: Address,
  opts: { minLength: number; maxLength: number; maxCycles: number; budget: number },
): CycleSearch {
  const closers = new Set(graph.buyersOf(start));
  const cycles: Address[][] = [];
  const path: Address[] = [start];
  const onPath = new Set<Address>([start]);
  let budget = opts.budget;
  let truncated = false;

  function walk(node: Address): void {
    if (path.length >= opts.minLength && closers.has(node)) {
      if (cycles.length >= opts.maxCycles) {
        truncated = true;
        return;
      }
      cycles.push([...path]);
    }
    if (path.length >= opts.maxLength) return;
    for (const edge of graph.suppliersOf(node)) {
      if (cycles.length >= opts.maxCycles || budget <= 0) {
        truncated = true;
        return;
      }
      budget -= 1;
      const next = edge.supplier;
      if (next === start || onPath.has(next)) continue;
      // A node that would be the last of the path is only worth visiting if it closes the cycle.
      if (path.length + 1 === opts.maxLength && !closers.has(next)) continue;
      path.push(next);
      onPath.add(next);
      walk(next);
      path.pop();
      onPath.delete(next);
    }
  }

  walk(start);
  return { cycles, truncated };
}
