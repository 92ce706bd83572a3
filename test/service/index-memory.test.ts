/**
 * The heap an index holds when the indexer builds it from events, against the same index loaded from
 * its store (every list exactly as long as its items, every repeated value shared). The reducers
 * rebuild a record's lists on each event (records are immutable); a copy made by spreading (`[...list,
 * item]`), or a short list grown by push, kept room for 16 more items (136 bytes). At bench:index's
 * million events on PostgreSQL, the heap the indexing process retained went from 374 to 312 MB with
 * the lists at their length, to 302 MB with one string per split child's id, and to 262 MB with the
 * records' empty and sole-holder lists shared (NO_ITEMS, ListsOfOne).
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { emptyIndexState, type Address, type EventRef, type IndexState } from "../../node-service/src/domain/entities";
import { RepeatedValues, shareLoadedIndex } from "../../node-service/src/domain/intern";
import type { DecodedEvent } from "../../node-service/src/indexer/decode";
import { applyEvents } from "../../node-service/src/indexer/reduce";
import { applyMutations, push } from "../../node-service/src/domain/mutations";
import { decodeIndexState, encodeIndexState } from "../../node-service/src/store/state-codec";
import { liveHeap } from "../../scripts/lib/gc";

const ZERO = "0x0000000000000000000000000000000000000000" as Address;
const SUPPLIER = `0x${"11".repeat(20)}` as Address;
const BUYER = `0x${"22".repeat(20)}` as Address;
const HASH = `0x${"ab".repeat(32)}` as Hex;
const FANOUT = 16;

/** The events of one block and transaction, sharing their hashes as the decoder's value pool makes them share. */
function blockRefs(blockNumber: number, names: string[]): EventRef[] {
  // Flat strings, as the decoder's are (a template literal makes a string of two parts, which takes more).
  const [blockHash, txHash] = JSON.parse(
    JSON.stringify([`0x${blockNumber.toString(16).padStart(64, "0")}`, `0xf${blockNumber.toString(16).padStart(63, "0")}`]),
  ) as Hex[];
  const at = 1_700_000_000 + blockNumber;
  return names.map((event, logIndex) => ({ contract: "Receivables", event, blockNumber, blockHash, txHash, logIndex, at }));
}

/**
 * Receivables split as bench:index splits them: each parent into 16 children in one transaction
 * (ReceivableSplit, then each child created and minted to the supplier: 33 events), `children` in all.
 */
function splitChildren(children: number): IndexState {
  const state = emptyIndexState();
  const events: DecodedEvent[] = [];
  let nextId = 1n;
  for (let block = 1; block <= Math.ceil(children / FANOUT); block++) {
    const parentId = nextId++;
    state.receivables[parentId.toString()] = {
      id: parentId.toString(),
      orderId: "1",
      issuer: SUPPLIER,
      debtor: BUYER,
      holder: SUPPLIER,
      faceValue: 10n * BigInt(FANOUT),
      paid: 0n,
      maturity: 1_800_000_000,
      invoiceHash: HASH,
      issuedAt: 1_700_000_000,
      status: "Confirmed",
      payments: [],
      holders: [SUPPLIER],
      events: [],
    };
    const refs = blockRefs(block, [
      "ReceivableSplit",
      ...Array<string>(FANOUT).fill("ReceivableChildCreated"),
      ...Array<string>(FANOUT).fill("Transfer"),
    ]);
    const firstChildId = nextId;
    events.push({
      ref: refs[0],
      name: "ReceivableSplit",
      args: { receivableId: parentId, holder: SUPPLIER, firstChildId, childCount: BigInt(FANOUT), at: 0n },
    });
    for (let i = 0; i < FANOUT; i++) {
      const receivableId = nextId++;
      events.push({ ref: refs[1 + i], name: "ReceivableChildCreated", args: { parentId, receivableId, holder: SUPPLIER, faceValue: 10n } });
      events.push({ ref: refs[1 + FANOUT + i], name: "Transfer", args: { from: ZERO, to: SUPPLIER, tokenId: receivableId } });
    }
  }
  applyEvents(state, events, false);
  return state;
}

/** The index as a store's load gives it: decoded from its JSON, repeated values shared. */
const loadIndex = (stored: string): IndexState => shareLoadedIndex({ state: decodeIndexState(JSON.parse(stored)) }).state;

/** Heap in use after a full collection, while `held` is alive. */
function heapHolding(held: () => unknown): number {
  const before = liveHeap();
  const value = held();
  const after = liveHeap();
  expect(value).to.not.equal(undefined); // keeps `value` alive through the second collection
  return after - before;
}

describe("index memory", () => {
  it("an index built from events holds no more heap than the same index loaded from its store", () => {
    const CHILDREN = 20_000;
    // Once first, so what the code's first run allocates for good (compiled code, caches) is not counted below.
    loadIndex(JSON.stringify(encodeIndexState(splitChildren(1_000))));
    let indexed: IndexState | undefined;
    const indexedBytes = heapHolding(() => (indexed = splitChildren(CHILDREN)));
    const stored = JSON.stringify(encodeIndexState(indexed!));
    let loaded: IndexState | undefined;
    const loadedBytes = heapHolding(() => (loaded = loadIndex(stored)));
    expect(JSON.stringify(encodeIndexState(loaded!))).to.equal(stored);
    expect(Object.keys(indexed!.receivables)).to.have.length(CHILDREN + CHILDREN / FANOUT);
    // About 550 bytes per child indexed, 510 loaded, with its events' references and its place in the
    // lists (640 and 600 before the shared empty and sole-holder lists); 812 indexed (645 loaded) when
    // each list made by spreading kept 136 bytes more.
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
    const shared = heapHolding(() => new RepeatedValues().share(decoded()));
    // Two bigints of at least 16 bytes each per record, against 20 for all of them.
    expect((unshared - shared) / RECORDS).to.be.above(30);
  });

  it("holds a list of a few items at its length", () => {
    // Most transactions emit a few events: their eventsByTx lists stay short for good.
    const LISTS = 20_000;
    const refs = Array.from({ length: LISTS }, (_, i) => blockRefs(i + 1, ["ReceivableChildCreated", "Transfer"]));
    let appended: IndexState | undefined;
    const appendedBytes = heapHolding(() => {
      appended = emptyIndexState();
      for (const [created, minted] of refs)
        applyMutations(appended, [push("eventsByTx", created.txHash, created), push("eventsByTx", minted.txHash, minted)]);
      return appended;
    });
    const exact = heapHolding(() => Object.fromEntries(refs.map((r) => [r[0].txHash, [...r]])));
    expect(Object.values(appended!.eventsByTx).every((list) => list.length === 2)).to.equal(true);
    // A list pushed to twice kept room for 16 more items: 136 bytes more per list.
    expect(appendedBytes / LISTS).to.be.below(exact / LISTS + 40);
  });

  it("a receivable's empty payments and the list of its sole holder take no heap of their own", () => {
    const CHILDREN = 20_000;
    const state = splitChildren(CHILDREN);
    const children = Object.values(state.receivables).filter((r) => r.parentId !== undefined);
    expect(children).to.have.length(CHILDREN);
    expect(new Set(children.map((r) => r.payments)).size, "distinct payments lists").to.equal(1);
    expect(new Set(children.map((r) => r.holders)).size, "distinct holders lists").to.equal(1);
    // Each child given lists of its own (as the reducers made them before): 32 bytes for an empty one, 56 for one item.
    const before = liveHeap();
    for (const r of children) Object.assign(r, { payments: [...r.payments], holders: [...(r.holders ?? [])] });
    expect((liveHeap() - before) / CHILDREN, "bytes per child that lists of its own take").to.be.above(70);
    expect(children.every((r) => r.holders?.length === 1 && r.holders[0] === SUPPLIER)).to.equal(true);
    expect(Object.keys(state.receivables)).to.have.length(CHILDREN + CHILDREN / FANOUT); // alive through the collections
  });
});
