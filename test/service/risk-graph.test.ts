/**
 * The bounded cycle search against a brute-force enumeration on small random trade graphs. The
 * graphs are index states built in memory (the algorithm reads only orders and per-party lists);
 * the chain-built histories are in risk.test.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import { emptyIndexState, type Address, type IndexState } from "../../node-service/src/domain/entities";
import { createTradeGraph, findCyclesThrough } from "../../node-service/src/risk/graph";

const T = 1_800_000_000;
const node = (i: number) => `0x${(i + 1).toString(16).padStart(40, "0")}` as Address;

/** One order per edge [buyer, supplier, createdAt offset, cancelled]. */
function stateOf(edges: [number, number, number, boolean][]): IndexState {
  const s = emptyIndexState();
  edges.forEach(([b, sup, dt, cancelled], k) => {
    const id = String(k + 1);
    const ref = {
      contract: "TradeOrders",
      event: "OrderCreated",
      blockNumber: k + 1,
      blockHash: "0x01" as const,
      txHash: "0x02" as const,
      logIndex: k,
      at: T - dt,
    };
    s.orders[id] = {
      id,
      buyer: node(b),
      supplier: node(sup),
      amount: 100n,
      documentHash: "0x03",
      deliveryDue: T,
      createdAt: T - dt,
      status: cancelled ? "Cancelled" : "Created",
      // Cancelled a second after creation, but never after the as-of time T (a later cancellation is not yet known at T).
      cancelledAt: cancelled ? Math.min(T - dt + 1, T) : undefined,
      disputes: [],
      events: [ref],
    };
    (s.ordersByParty[node(b)] ??= []).push(id);
    (s.ordersByParty[node(sup)] ??= []).push(id);
  });
  return s;
}

/** All simple cycles through node 0 of length min..max, by trying every sequence of distinct nodes. */
function bruteForce(edges: [number, number, number, boolean][], n: number, window: number, min: number, max: number): string[] {
  const live = new Set(edges.filter(([, , dt, c]) => !c && dt <= window).map(([b, s]) => `${b}>${s}`));
  const out: string[] = [];
  const extend = (path: number[]) => {
    if (path.length >= min && live.has(`${path[path.length - 1]}>0`)) out.push(path.map(node).join(","));
    if (path.length === max) return;
    for (let v = 1; v < n; v++) if (!path.includes(v) && live.has(`${path[path.length - 1]}>${v}`)) extend([...path, v]);
  };
  extend([0]);
  return out.sort();
}

describe("trade graph cycle search", () => {
  it("finds exactly the simple cycles through the borrower a brute-force enumeration finds (property)", () => {
    const n = 6;
    const edge = fc
      .tuple(fc.nat({ max: n - 1 }), fc.nat({ max: n - 1 }), fc.nat({ max: 400 * 86_400 }), fc.boolean())
      .filter(([b, s]) => b !== s);
    fc.assert(
      fc.property(fc.array(edge, { maxLength: 24 }), fc.integer({ min: 2, max: 3 }), fc.integer({ min: 3, max: 5 }), (edges, min, max) => {
        const window = 180 * 86_400;
        const graph = createTradeGraph(stateOf(edges), { from: T - window, to: T });
        const found = findCyclesThrough(graph, node(0), { minLength: min, maxLength: max, maxCycles: 10_000, budget: 1_000_000 });
        expect(found.truncated).to.equal(false);
        expect(found.cycles.map((c) => c.join(",")).sort()).to.deep.equal(bruteForce(edges, n, window, min, max));
      }),
      { numRuns: 300 },
    );
  });

  it("stops at maxCycles and at the expansion budget, and says so", () => {
    // A complete graph on 6 nodes has many cycles through node 0.
    const edges: [number, number, number, boolean][] = [];
    for (let b = 0; b < 6; b++) for (let s = 0; s < 6; s++) if (b !== s) edges.push([b, s, 0, false]);
    const graph = createTradeGraph(stateOf(edges), { from: T - 86_400, to: T });
    const capped = findCyclesThrough(graph, node(0), { minLength: 3, maxLength: 4, maxCycles: 3, budget: 1_000_000 });
    expect(capped.cycles).to.have.length(3);
    expect(capped.truncated).to.equal(true);
    const budgeted = findCyclesThrough(graph, node(0), { minLength: 3, maxLength: 4, maxCycles: 1_000, budget: 5 });
    expect(budgeted.truncated).to.equal(true);
    const all = findCyclesThrough(graph, node(0), { minLength: 3, maxLength: 4, maxCycles: 1_000, budget: 1_000_000 });
    expect(all.truncated).to.equal(false);
    expect(all.cycles).to.have.length(5 * 4 + 5 * 4 * 3); // ordered choices of 2 or 3 other nodes
  });
});
