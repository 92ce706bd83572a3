/** One copy of each repeated value in a loaded index (node-service/src/domain/intern.ts). */
import { expect } from "chai";
import { shareRepeatedValues, ValuePool } from "../../node-service/src/domain/intern";

const ref = (logIndex: number) => ({
  contract: "Receivables",
  event: "ReceivableIssued",
  blockNumber: 7,
  blockHash: `0x${"ab".repeat(32)}`,
  txHash: `0x${"cd".repeat(32)}`,
  logIndex,
  at: 1_700_000_000,
});

describe("shareRepeatedValues", () => {
  it("makes equal event references one object and leaves every value as it was", () => {
    // As JSON.parse gives it: the same event decoded twice, in its record and in eventsByTx.
    const doc = {
      state: {
        receivables: { "1": { id: "1", faceValue: 10n ** 30n, holder: `0x${"11".repeat(20)}`, events: [ref(0), ref(1)] } },
        eventsByTx: { [ref(0).txHash]: [ref(0), ref(1), ref(2)] },
        eventCount: 3,
      },
      undo: [{ blockNumber: 7, puts: [{ coll: "receivables", key: "1" }] }],
    };
    const before = structuredClone(doc);
    const out = shareRepeatedValues(doc);
    expect(out).to.equal(doc);
    expect(doc).to.deep.equal(before);
    const listed = doc.state.eventsByTx[ref(0).txHash];
    expect(doc.state.receivables["1"].events[0]).to.equal(listed[0]);
    expect(doc.state.receivables["1"].events[1]).to.equal(listed[1]);
    expect(listed[2]).to.not.equal(listed[1]);
    expect(doc.state.receivables["1"].faceValue).to.equal(10n ** 30n);
  });

  it("keeps events apart that differ in block or position", () => {
    const a = ref(0);
    const b = { ...ref(0), blockHash: `0x${"ef".repeat(32)}` };
    const doc = { x: [a, b, ref(1)] };
    shareRepeatedValues(doc);
    expect(doc.x[0]).to.not.equal(doc.x[1]);
    expect(doc.x[0]).to.not.equal(doc.x[2]);
  });
});

describe("ValuePool", () => {
  it("gives back equal strings, and starts over when full", () => {
    const pool = new ValuePool(2);
    expect(pool.intern("a" + "b")).to.equal("ab");
    pool.intern("c");
    pool.intern("d"); // full: cleared, then holds "d"
    expect(pool.intern("ab")).to.equal("ab");
  });
});
