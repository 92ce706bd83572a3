/** One copy of each repeated value in a loaded index (node-service/src/domain/intern.ts). */
import { expect } from "chai";
import { emptyIndexState, type Address, type EventRef, type ReceivableEntity } from "../../node-service/src/domain/entities";
import { ListsOfOne, NO_ITEMS, shareLoadedIndex, ValuePool } from "../../node-service/src/domain/intern";
import { applyMutations, push, undoBlock } from "../../node-service/src/domain/mutations";

const ref = (logIndex: number): EventRef => ({
  contract: "Receivables",
  event: "ReceivableIssued",
  blockNumber: 7,
  blockHash: `0x${"ab".repeat(32)}`,
  txHash: `0x${"cd".repeat(32)}`,
  logIndex,
  at: 1_700_000_000,
});

describe("shareLoadedIndex", () => {
  it("makes equal event references one object and leaves every value as it was", () => {
    // As JSON.parse gives it: the same event decoded twice, in its record and in eventsByTx.
    const doc = {
      state: {
        ...emptyIndexState(),
        receivables: { "1": receivable("1", [ref(0), ref(1)]) },
        eventsByTx: { [ref(0).txHash]: [ref(0), ref(1), ref(2)] },
        eventCount: 3,
      },
      undo: [{ blockNumber: 7, puts: [{ coll: "receivables", key: "1" }] }],
    };
    const before = structuredClone(doc);
    const out = shareLoadedIndex(doc);
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
    const doc = { state: emptyIndexState(), x: [a, b, ref(1)] };
    shareLoadedIndex(doc);
    expect(doc.x[0]).to.not.equal(doc.x[1]);
    expect(doc.x[0]).to.not.equal(doc.x[2]);
  });

  it("shares records' empty and one-item lists, and leaves the index's lists and the undo log appendable", () => {
    // As JSON.parse gives them: each list an array of its own.
    const doc = {
      state: {
        ...emptyIndexState(),
        receivables: { "1": receivable("1", [ref(0)]), "2": receivable("2", [ref(1)]) },
        receivablesByOrder: { "1": ["1"], "2": ["1"] },
        eventCount: 2,
      },
      undo: [{ blockNumber: 7, events: 2, puts: [], pushes: [{ coll: "receivablesByOrder" as const, key: "1", n: 1 }] }],
    };
    const before = structuredClone(doc);
    shareLoadedIndex(doc);
    expect(doc).to.deep.equal(before);
    const [one, two] = [doc.state.receivables["1"], doc.state.receivables["2"]];
    expect(one.payments).to.equal(NO_ITEMS);
    expect(two.payments).to.equal(NO_ITEMS);
    expect(one.holders).to.equal(two.holders);
    expect(Object.isFrozen(one.holders)).to.equal(true);
    // Lists of the index with equal items stay apart: an undo cuts one of them in place.
    expect(doc.state.receivablesByOrder["1"]).to.not.equal(doc.state.receivablesByOrder["2"]);
    applyMutations(doc.state, [push("receivablesByOrder", "2", "3")]);
    undoBlock(doc.state, doc.undo[0]);
    expect(doc.state.receivablesByOrder).to.deep.equal({ "2": ["1", "3"] });
    expect(doc.undo[0].puts).to.not.equal(NO_ITEMS);
  });
});

function receivable(id: string, events: EventRef[]): ReceivableEntity {
  const holder = `0x${"11".repeat(20)}` as Address;
  return JSON.parse(
    JSON.stringify({
      id,
      orderId: "1",
      issuer: holder,
      debtor: holder,
      holder,
      faceValue: "0",
      paid: "0",
      maturity: 0,
      invoiceHash: `0x${"00".repeat(32)}`,
      issuedAt: 0,
      status: "Confirmed",
      payments: [],
      holders: [holder],
      events,
    }),
    (k, v: unknown) => (k === "faceValue" ? 10n ** 30n : k === "paid" ? 0n : v),
  ) as ReceivableEntity;
}

describe("ListsOfOne", () => {
  it("gives back one frozen list per item, and starts over when full", () => {
    const lists = new ListsOfOne(2);
    const ab = lists.of("a" + "b");
    expect(ab).to.deep.equal(["ab"]);
    expect(lists.of("ab")).to.equal(ab);
    expect(() => (ab as string[]).push("c")).to.throw(TypeError);
    lists.of("c");
    lists.of("d"); // full: cleared, then holds "d"
    expect(lists.of("ab")).to.not.equal(ab);
    expect(lists.of("ab")).to.deep.equal(["ab"]);
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
