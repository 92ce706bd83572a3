/**
 * The heap an index holds when the indexer builds it from events, against the same index loaded from
 * its store (every list exactly as long as its items). The reducers rebuild a record's lists on each
 * event (records are immutable); a copy made by spreading (`[...list, item]`) keeps room for 16 more
 * items, about 136 bytes per record, which at bench:index's million events was some 64 MB of the 374 MB
 * the indexing process retained.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import {
  emptyIndexState,
  type Address,
  type EventRef,
  type IndexState,
  type ReceivableEntity,
} from "../../node-service/src/domain/entities";
import { shareRepeatedValues } from "../../node-service/src/domain/intern";
import type { DecodedEvent } from "../../node-service/src/indexer/decode";
import { applyEvents } from "../../node-service/src/indexer/reduce";
import { decodeIndexState, encodeIndexState } from "../../node-service/src/store/state-codec";
import { collectGarbage } from "../../scripts/lib/gc";

const ZERO = "0x0000000000000000000000000000000000000000" as Address;
const SUPPLIER = `0x${"11".repeat(20)}` as Address;
const BUYER = `0x${"22".repeat(20)}` as Address;
const HASH = `0x${"ab".repeat(32)}` as Hex;

/** The events of one block and transaction, sharing their hashes as the decoder's string pool makes them share. */
function blockRefs(blockNumber: number, names: string[]): EventRef[] {
  // Flat strings, as the decoder's are (a template literal makes a string of two parts, which takes more).
  const [blockHash, txHash] = JSON.parse(
    JSON.stringify([`0x${blockNumber.toString(16).padStart(64, "0")}`, `0x${blockNumber.toString(16).padStart(64, "f")}`]),
  ) as Hex[];
  const at = 1_700_000_000 + blockNumber;
  return names.map((event, logIndex) => ({ contract: "Receivables", event, blockNumber, blockHash, txHash, logIndex, at }));
}

/** A parent receivable, then `children` split children, each created and minted to the supplier (two events), one block each. */
function splitChildren(children: number): IndexState {
  const state = emptyIndexState();
  const parent: ReceivableEntity = {
    id: "1",
    orderId: "1",
    issuer: SUPPLIER,
    debtor: BUYER,
    holder: SUPPLIER,
    faceValue: 10n * BigInt(children),
    paid: 0n,
    maturity: 1_800_000_000,
    invoiceHash: HASH,
    issuedAt: 1_700_000_000,
    status: "Split",
    payments: [],
    holders: [SUPPLIER],
    events: blockRefs(1, ["ReceivableIssued"]),
  };
  state.receivables["1"] = parent;
  const events: DecodedEvent[] = [];
  for (let i = 0; i < children; i++) {
    const block = 2 + i;
    const childId = BigInt(2 + i);
    const [created, minted] = blockRefs(block, ["ReceivableChildCreated", "Transfer"]);
    events.push(
      { ref: created, name: "ReceivableChildCreated", args: { parentId: 1n, receivableId: childId, holder: SUPPLIER, faceValue: 10n } },
      { ref: minted, name: "Transfer", args: { from: ZERO, to: SUPPLIER, tokenId: childId } },
    );
  }
  applyEvents(state, events, false);
  return state;
}

/** Heap in use after a full collection, while `held` is alive. */
function heapHolding(held: () => unknown): number {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const value = held();
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  expect(value).to.not.equal(undefined); // keeps `value` alive through the second collection
  return after - before;
}

describe("index memory", () => {
  it("an index built from events holds no more heap than the same index loaded from its store", () => {
    const CHILDREN = 20_000;
    // Once first, so what the code's first run allocates for good (compiled code, caches) is not counted below.
    shareRepeatedValues(decodeIndexState(JSON.parse(JSON.stringify(encodeIndexState(splitChildren(1_000))))));
    let indexed: IndexState | undefined;
    const indexedBytes = heapHolding(() => (indexed = splitChildren(CHILDREN)));
    const stored = JSON.stringify(encodeIndexState(indexed!));
    let loaded: IndexState | undefined;
    const loadedBytes = heapHolding(() => (loaded = shareRepeatedValues(decodeIndexState(JSON.parse(stored)))));
    expect(JSON.stringify(encodeIndexState(loaded!))).to.equal(stored);
    expect(Object.keys(indexed!.receivables)).to.have.length(CHILDREN + 1);
    // About 790 bytes per child either way (with the two events' references and the lists); 1,090 indexed
    // when each list made by spreading or grown by push kept room for 16 more items.
    expect(indexedBytes / CHILDREN, `bytes per child indexed, against ${(loadedBytes / CHILDREN).toFixed(0)} loaded`).to.be.below(
      (loadedBytes / CHILDREN) * 1.15,
    );
  });

  it("a loaded index keeps one bigint per distinct amount", () => {
    // As a store's decoding gives them: a new bigint per record, though most records hold the same few.
    const RECORDS = 100_000;
    const decoded = () =>
      Array.from({ length: RECORDS }, (_, i) => ({ paid: BigInt("0"), faceValue: BigInt(`${1_000_000 + (i % 10)}000000000000000`) }));
    const unshared = heapHolding(decoded);
    const shared = heapHolding(() => shareRepeatedValues(decoded()));
    // Two bigints of at least 16 bytes each per record, against 20 for all of them.
    expect((unshared - shared) / RECORDS).to.be.above(30);
  });
});
