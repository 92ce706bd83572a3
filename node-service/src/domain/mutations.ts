/**
 * What a reducer returns: a list of mutations of the IndexState, never a mutated state. The indexer
 * applies them and, for blocks that may still be reorged, records how to undo them. Two kinds:
 * - `put` replaces a whole keyed record (entities are treated as immutable: a reducer builds a new
 *   object, so the previous one can be kept as the undo value at no copying cost);
 * - `push` appends to a per-party or per-tx list (undone by a pop), so an append never copies a list
 *   that grows with the chain.
 */
import type {
  Address,
  AnchorEntity,
  ConsentEntity,
  EventRef,
  IndexState,
  LoanEntity,
  OrderEntity,
  ParticipantEntity,
  ReceivableEntity,
  TransferEntity,
} from "./entities";

export interface RecordCollections {
  participants: ParticipantEntity;
  orders: OrderEntity;
  receivables: ReceivableEntity;
  loans: LoanEntity;
  consents: ConsentEntity;
  anchors: AnchorEntity;
  loanByDigest: string;
  transfers: TransferEntity;
}
export type RecordCollection = keyof RecordCollections;

export interface ListCollections {
  ordersByParty: string;
  receivablesByParty: string;
  loansByParty: string;
  transfersByParty: string;
  participantsByAttribute: Address;
  ordersByDocument: string;
  ordersByShippingDocument: string;
  receivablesByInvoice: string;
  loansByDocument: string;
  receivablesByOrder: string;
  eventsByTx: EventRef;
}
export type ListCollection = keyof ListCollections;

/** Every collection of records and of lists, for what walks the whole index (the stores). */
export const RECORD_COLLECTIONS: readonly RecordCollection[] = [
  "participants",
  "orders",
  "receivables",
  "loans",
  "consents",
  "anchors",
  "loanByDigest",
  "transfers",
];
export const LIST_COLLECTIONS: readonly ListCollection[] = [
  "ordersByParty",
  "receivablesByParty",
  "loansByParty",
  "transfersByParty",
  "participantsByAttribute",
  "ordersByDocument",
  "ordersByShippingDocument",
  "receivablesByInvoice",
  "loansByDocument",
  "receivablesByOrder",
  "eventsByTx",
];

export type PutMutation = { [C in RecordCollection]: { op: "put"; coll: C; key: string; value: RecordCollections[C] } }[RecordCollection];
export type PushMutation = { [C in ListCollection]: { op: "push"; coll: C; key: string; value: ListCollections[C] } }[ListCollection];
export type Mutation = PutMutation | PushMutation;

/**
 * `list` with `item` after it, as a new array of exactly that length. The index holds most of its
 * lists for good and rebuilds a record's lists on every event; a copy made by spreading (`[...list,
 * item]`) or grown by `push` from a few items keeps room for 16 more (136 bytes): a fifth of the
 * heap of an index of split receivables (test/service/index-memory.test.ts).
 */
export function appended<T>(list: readonly T[], item: T): T[] {
  return list.concat([item]);
}

/**
 * Lists shorter than this are copied on append (a copy of a few items costs less than the room `push`
 * leaves); longer ones are appended in place, so an append never copies a list that grows with the
 * chain, and `push`'s room is at most about half the list.
 */
const SMALL_LIST = 16;

export function put<C extends RecordCollection>(coll: C, key: string, value: RecordCollections[C]): Mutation {
  return { op: "put", coll, key, value } as Mutation;
}

export function push<C extends ListCollection>(coll: C, key: string, value: ListCollections[C]): Mutation {
  return { op: "push", coll, key, value } as Mutation;
}

/**
 * How to take one block back. Rollbacks always undo whole blocks, so a block keeps, per record, only
 * the version it found before its first change, and per list only how many items it appended: a
 * block that creates a record and changes it in the same transaction costs one `absent` entry.
 */
export interface BlockUndo {
  blockNumber: number;
  /** Events the block counted. */
  events: number;
  /** Records the block changed and their version before the block (undefined = absent). */
  puts: { coll: RecordCollection; key: string; prev: RecordCollections[RecordCollection] | undefined }[];
  /** Lists the block appended to, and how many items. */
  pushes: { coll: ListCollection; key: string; n: number }[];
}

/** Builds the BlockUndo of one block while its mutations are applied. */
export class BlockUndoRecorder {
  readonly block: BlockUndo;
  private readonly putSeen = new Set<string>();
  private readonly pushIndex = new Map<string, BlockUndo["pushes"][number]>();

  constructor(blockNumber: number) {
    this.block = { blockNumber, events: 0, puts: [], pushes: [] };
  }

  put(coll: RecordCollection, key: string, prev: RecordCollections[RecordCollection] | undefined): void {
    const id = `${coll}\u0000${key}`;
    if (this.putSeen.has(id)) return;
    this.putSeen.add(id);
    this.block.puts.push({ coll, key, prev });
  }

  push(coll: ListCollection, key: string): void {
    const id = `${coll}\u0000${key}`;
    const entry = this.pushIndex.get(id);
    if (entry) entry.n += 1;
    else {
      const fresh = { coll, key, n: 1 };
      this.pushIndex.set(id, fresh);
      this.block.pushes.push(fresh);
    }
  }
}

/**
 * What changed in the state since the last commit, so a store that keeps records apart (PostgreSQL)
 * writes only those: the keys of the records put or undone, and per list the shortest length it had
 * (items from there on are rewritten; a push only appends, an undo cuts).
 */
export class ChangeSet {
  readonly records = new Map<string, { coll: RecordCollection; key: string }>();
  readonly lists = new Map<string, { coll: ListCollection; key: string; from: number }>();

  put(coll: RecordCollection, key: string): void {
    this.records.set(`${coll}\u0000${key}`, { coll, key });
  }

  /** The list `coll`/`key` had `length` items before it changed. */
  list(coll: ListCollection, key: string, length: number): void {
    const id = `${coll}\u0000${key}`;
    const seen = this.lists.get(id);
    if (!seen) this.lists.set(id, { coll, key, from: length });
    else if (length < seen.from) seen.from = length;
  }

  /** Adds the changes of `earlier` (a commit that failed: they are written with the next one). */
  absorb(earlier: ChangeSet): void {
    for (const r of earlier.records.values()) this.put(r.coll, r.key);
    for (const l of earlier.lists.values()) this.list(l.coll, l.key, l.from);
  }

  get size(): number {
    return this.records.size + this.lists.size;
  }
}

/** Keys of the index's records and lists, per collection: what a memo over some of them read. */
export class CollectionKeys {
  private readonly byColl = new Map<string, Set<string>>();
  size = 0;

  add(coll: string, key: string): void {
    let keys = this.byColl.get(coll);
    if (!keys) this.byColl.set(coll, (keys = new Set()));
    const before = keys.size;
    keys.add(key);
    this.size += keys.size - before;
  }

  has(coll: string, key: string): boolean {
    return this.byColl.get(coll)?.has(key) === true;
  }

  /** The keys of index_changes ("coll/key"). */
  static of(changed: Iterable<string>): CollectionKeys {
    const keys = new CollectionKeys();
    for (const c of changed) {
      const slash = c.indexOf("/");
      keys.add(c.slice(0, slash), c.slice(slash + 1));
    }
    return keys;
  }

  /** Each collection with its keys. */
  collections(): IterableIterator<[string, ReadonlySet<string>]> {
    return this.byColl.entries();
  }

  /** True when one of `other` is among these. */
  meets(other: CollectionKeys): boolean {
    for (const [coll, keys] of other.byColl) for (const k of keys) if (this.has(coll, k)) return true;
    return false;
  }
}

/** Changes a ChangeJournal keeps (about 1 MB). */
const JOURNAL_KEPT = 1 << 16;

/**
 * The keys applyMutations and undoBlock changed in one state, in order, the last JOURNAL_KEPT of them,
 * for a state registered with `trackChanges` (an indexer's, which changes only through them): a memo
 * over some of its records checks the keys changed since it was made instead of walking the records
 * again (metrics/compute.ts).
 */
export class ChangeJournal {
  /** How many changes were recorded: the position of the next one. */
  position = 0;
  private readonly colls: string[] = new Array<string>(JOURNAL_KEPT);
  private readonly keys: string[] = new Array<string>(JOURNAL_KEPT);

  record(coll: string, key: string): void {
    const i = this.position % JOURNAL_KEPT;
    this.colls[i] = coll;
    this.keys[i] = key;
    this.position += 1;
  }

  /** Whether a change from position `from` on is one of `keys`; null when some of those changes are no longer kept. */
  touches(from: number, keys: CollectionKeys): boolean | null {
    if (this.position - from > JOURNAL_KEPT) return null;
    for (let p = from; p < this.position; p++) {
      const i = p % JOURNAL_KEPT;
      if (keys.has(this.colls[i], this.keys[i])) return true;
    }
    return false;
  }
}

const journals = new WeakMap<IndexState, ChangeJournal>();

/** Journals `state`'s changes from now on. Only for a state changed by applyMutations and undoBlock alone. */
export function trackChanges(state: IndexState): void {
  if (!journals.has(state)) journals.set(state, new ChangeJournal());
}

/** The journal of a state registered with trackChanges. */
export function changeJournalOf(state: IndexState): ChangeJournal | undefined {
  return journals.get(state);
}

const readOnce = new WeakSet<IndexState>();

/**
 * Marks a state made for one run and dropped after it (an on-demand view, store/on-demand.ts): a memo
 * keyed by state would never be asked again, so it computes over it without noting anything.
 */
export function markReadOnce(state: IndexState): void {
  readOnce.add(state);
}

/** Whether `state` was marked with markReadOnce. */
export function isReadOnce(state: IndexState): boolean {
  return readOnce.has(state);
}

type AnyRecords = Record<string, unknown>;
type AnyLists = Record<string, unknown[]>;

/**
 * Applies mutations in order to `state` (in place), telling `undo` (when given) what each replaced
 * and `changes` (when given) which records and lists changed.
 */
export function applyMutations(state: IndexState, mutations: Mutation[], undo?: BlockUndoRecorder, changes?: ChangeSet): void {
  const journal = journals.get(state);
  for (const m of mutations) {
    journal?.record(m.coll, m.key);
    if (m.op === "put") {
      const records = state[m.coll] as AnyRecords;
      undo?.put(m.coll, m.key, records[m.key] as RecordCollections[RecordCollection] | undefined);
      records[m.key] = m.value;
      changes?.put(m.coll, m.key);
    } else {
      const lists = state[m.coll] as AnyLists;
      const list = lists[m.key];
      changes?.list(m.coll, m.key, list?.length ?? 0);
      if (list && list.length >= SMALL_LIST) list.push(m.value);
      else lists[m.key] = appended(list ?? [], m.value);
      undo?.push(m.coll, m.key);
    }
  }
}

/** Takes one block back: restores each record's version from before the block, drops its appends. */
export function undoBlock(state: IndexState, block: BlockUndo, changes?: ChangeSet): void {
  const journal = journals.get(state);
  for (const u of block.puts) {
    journal?.record(u.coll, u.key);
    const records = state[u.coll] as AnyRecords;
    if (u.prev === undefined) delete records[u.key];
    else records[u.key] = u.prev;
    changes?.put(u.coll, u.key);
  }
  for (const u of block.pushes) {
    journal?.record(u.coll, u.key);
    const lists = state[u.coll] as AnyLists;
    const list = lists[u.key];
    list.length -= u.n;
    changes?.list(u.coll, u.key, list.length);
    if (list.length === 0) delete lists[u.key];
  }
  state.eventCount -= block.events;
}
