import { expect } from "chai";
import type { Address, Hex } from "viem";
import { emptyIndexState, type IndexState } from "../../node-service/src/domain/entities";
import { encodeUndo, parseIndex, serializeIndexYielding, STORE_VERSION, type StoredIndex } from "../../node-service/src/store/index-store";
import { encodeIndexState } from "../../node-service/src/store/state-codec";

const addr = (i: number) => `0x${i.toString(16).padStart(40, "0")}` as Address;
const hash = (i: number) => `0x${i.toString(16).padStart(64, "0")}` as Hex;

/** The oracle: the whole encoded document in one JSON.stringify (what serializeIndexYielding must equal). */
function serializeIndex(doc: StoredIndex): string {
  return JSON.stringify({ ...doc, undo: doc.undo.map(encodeUndo), state: encodeIndexState(doc.state) });
}

/** A document with every amount-holding collection filled (bigint amounts, nested payment lists) and undo rows. */
function documentOf(orders: number): StoredIndex {
  const state: IndexState = emptyIndexState();
  for (let i = 0; i < orders; i++) {
    const id = String(i + 1);
    state.orders[id] = { id, buyer: addr(1), supplier: addr(2), amount: 10n ** 20n + BigInt(i), status: 5 } as never;
    state.receivables[id] = {
      id,
      faceValue: 123_456_789_012_345_678_901n + BigInt(i),
      paid: BigInt(i),
      payments: [{ amount: BigInt(i), toLoan: 0n, at: i }],
    } as never;
    state.transfers[id] = { id, from: addr(1), to: addr(2), amount: BigInt(i) * 7n } as never;
    (state.ordersByParty[addr(1)] ??= []).push(id);
  }
  state.loans["1"] = { id: "1", principal: 5n, totalDue: 6n, repaid: 1n, nonce: 0n, repayments: [{ amount: 1n, at: 3 }] } as never;
  state.eventCount = orders * 3;
  return {
    version: STORE_VERSION,
    identity: { chainId: 31337, genesisHash: hash(0), startBlock: 0, contracts: { TradeRegistry: addr(9) } },
    checkpoint: { blockNumber: 10, blockHash: hash(10) },
    recentBlocks: [{ blockNumber: 10, blockHash: hash(10) }],
    undoFloor: 4,
    undo: [{ blockNumber: 10, blockHash: hash(10), puts: [{ coll: "orders", key: "1", prev: state.orders["1"] }], lists: [] } as never],
    state,
  };
}

describe("index file serialization", () => {
  it("writes, record by record, the same document serializeIndex writes (amounts, nested lists, undo rows)", async () => {
    const doc = documentOf(500);
    const text = await serializeIndexYielding(doc, 0);
    expect(JSON.parse(text)).to.deep.equal(JSON.parse(serializeIndex(doc)));
    const back = parseIndex(text);
    expect(back.state.receivables["7"].faceValue).to.equal(123_456_789_012_345_678_907n);
    expect(back.state.receivables["7"].payments[0].amount).to.equal(6n);
    expect(back.state.loans["1"].repayments[0].amount).to.equal(1n);
    expect(back.undo[0].puts[0].prev).to.deep.equal(doc.state.orders["1"]);
    expect(back.state.eventCount).to.equal(1500);
  });

  it("lets other work run while a large index is serialized", async () => {
    const doc = documentOf(30_000);
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await serializeIndexYielding(doc, 1);
    ticking = false;
    // A single JSON.stringify would give no turn at all between its start and end.
    expect(turns).to.be.greaterThan(5);
  });
});
