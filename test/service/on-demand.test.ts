/**
 * store/on-demand.ts: a synchronous reader of the index run over keyed reads, reading only the keys it
 * asks for, with the result it gives over the whole index. (Every fraud screening of risk.test.ts is
 * checked the same way, and pg-reader.test.ts compares quotes on a reader with the indexing process's.)
 */
import { expect } from "chai";
import { computeMetricsAtUncached } from "../../node-service/src/metrics/compute";
import { toJsonSafe } from "../../node-service/src/domain/json";
import type { IndexState } from "../../node-service/src/domain/entities";
import { OnDemandIndex } from "../../node-service/src/store/on-demand";
import { stateReader, type IndexReader } from "../../node-service/src/store/index-reader";
import { A, B, C, E, L, book, d, scenario } from "./metric-scenarios";

/** stateReader, counting the keys read and the reads (a statement each on PostgreSQL). */
function counted(state: IndexState): IndexReader & { keys: number; statements: number } {
  const inner = stateReader(state);
  const reader: IndexReader & { keys: number; statements: number } = {
    keys: 0,
    statements: 0,
    records: ((coll, keys) => (
      (reader.keys += keys.length),
      (reader.statements += 1),
      inner.records(coll, keys)
    )) as IndexReader["records"],
    lists: ((coll, keys) => ((reader.keys += keys.length), (reader.statements += 1), inner.lists(coll, keys))) as IndexReader["lists"],
  };
  return reader;
}

describe("an index read on demand (store/on-demand.ts)", () => {
  it("gives every party's metrics at every instant as over the whole index, reading only that party's keys", async () => {
    for (const s of [scenario(), book()])
      for (const party of [E, A, B, C, L])
        for (const day of [0, 20, 46, 150]) {
          const reader = counted(s);
          const onDemand = new OnDemandIndex(reader);
          const metrics = await onDemand.run((partial) => computeMetricsAtUncached(partial, party, d(day)));
          expect(toJsonSafe(metrics), `${party} day ${day}`).to.deep.equal(toJsonSafe(computeMetricsAtUncached(s, party, d(day))));
          expect(onDemand.stats.keys).to.equal(reader.keys);
        }
  });

  it("reads in rounds, keeps what it read for the next run, and reads a key once", async () => {
    const reader = counted(scenario());
    const onDemand = new OnDemandIndex(reader);
    const ids = await onDemand.run((s) => (s.ordersByParty[C] ?? []).map((id) => s.orders[id]?.amount));
    expect(ids).to.deep.equal([700n]);
    // The list, then its order: two rounds.
    expect(onDemand.stats).to.deep.equal({ rounds: 2, keys: 2 });
    expect(await onDemand.run((s) => s.orders["5"]?.buyer)).to.equal(E);
    expect(reader.keys).to.equal(2);
    // An absent key is read once and then known absent.
    expect(await onDemand.run((s) => "99" in s.orders || s.ordersByParty[L] !== undefined)).to.equal(false);
    expect(await onDemand.run((s) => s.orders["99"] ?? "none")).to.equal("none");
    expect(reader.keys).to.equal(4);
  });

  it("reads the keys a round asks of one collection in one statement", async () => {
    const s = scenario();
    const reader = counted(s);
    const parties = [A, B, C, E, L];
    const counts = await new OnDemandIndex(reader).run((partial) => parties.map((p) => partial.ordersByParty[p]?.length ?? 0));
    expect(counts).to.deep.equal(parties.map((p) => s.ordersByParty[p]?.length ?? 0));
    expect(counts.filter((n) => n > 0)).to.have.length.greaterThan(1);
    expect([reader.keys, reader.statements]).to.deep.equal([parties.length, 1]);
  });

  it("reads a round of thousands of keys in one read of the collection, and keeps one copy of each repeated value", async () => {
    const s = scenario();
    const reader = counted(s);
    // 2,500 keys asked at once, mostly absent: one read (PostgreSQL's reader splits it into statements).
    const ids = Array.from({ length: 2_500 }, (_, i) => String(i + 1));
    const found = await new OnDemandIndex(reader).run((partial) => ids.filter((id) => partial.orders[id] !== undefined));
    expect(found).to.deep.equal(ids.filter((id) => s.orders[id] !== undefined));
    expect([reader.keys, reader.statements]).to.deep.equal([2_500, 1]);
    // Over a reader that decodes a new copy of what it reads (as PostgreSQL's rows are), two receivables
    // with no payment yet share one empty list, as the index in memory does (domain/intern.ts NO_ITEMS).
    const inner = stateReader(s);
    const decoding: IndexReader = {
      records: async (coll, keys) => structuredClone(await inner.records(coll, keys)),
      lists: async (coll, keys) => structuredClone(await inner.lists(coll, keys)),
    };
    const unpaid = Object.keys(s.receivables).filter((id) => s.receivables[id].payments.length === 0);
    expect(unpaid).to.have.length.greaterThan(1);
    const lists = await new OnDemandIndex(decoding).run((partial) => unpaid.map((id) => partial.receivables[id]?.payments));
    expect(lists[0]).to.deep.equal([]);
    for (const list of lists) expect(list, "one shared empty list").to.equal(lists[0]);
  });

  it("passes on an error raised over what is loaded, and refuses to enumerate or change a collection", async () => {
    const onDemand = new OnDemandIndex(stateReader(scenario()));
    // A run that fails on a key not loaded yet is run again once it is; one that fails over loaded keys fails.
    expect(await onDemand.run((s) => s.orders["1"].amount)).to.equal(1000n);
    let caught: unknown;
    try {
      await onDemand.run((s) => s.orders["99"].amount);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(TypeError);
    for (const read of [(s: IndexState): unknown[] => Object.keys(s.orders), (s: IndexState): unknown[] => Object.values(s.participants)]) {
      caught = undefined;
      try {
        await onDemand.run(read);
      } catch (err) {
        caught = err;
      }
      expect((caught as Error).message).to.match(/enumerating (orders|participants) is not supported/);
    }
    caught = undefined;
    try {
      await onDemand.run((s) => (s.orders["1"] = s.orders["2"]));
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).to.match(/writing orders is not supported/);
  });
});
