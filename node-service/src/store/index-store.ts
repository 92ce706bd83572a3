/**
 * Where the indexer keeps its work: one document holding the chain identity, the checkpoint, the
 * recent block hashes and undo information, and the reduced state, always written whole and
 * atomically so a checkpoint can never describe a state other than the one saved with it.
 *
 * The interface is small on purpose: a PostgreSQL store would be a new implementation of IndexStore,
 * not a rewrite of the indexer. The lowdb implementation writes through writeFileAtomic (temp file,
 * fsync, rename, fsync of the directory).
 */
import path from "node:path";
import { mkdir, rename } from "node:fs/promises";
import type { Hex } from "viem";
import { emptyIndexState, type Address, type IndexState } from "../domain/entities";
import type { BlockUndo, ChangeSet, RecordCollection } from "../domain/mutations";
import { Low } from "lowdb";
import { readFileIfExists, writeFileAtomic } from "./atomic-file";
import { shareLoadedIndex } from "../domain/intern";
import { decodeIndexState, decodeRecord, encodeRecord } from "./state-codec";

/**
 * The index's format: a saved index of another version is not read but rebuilt from the chain (the
 * indexer's load). 2: the document and per-order lists (ordersByShippingDocument, receivablesByInvoice,
 * loansByDocument, receivablesByOrder), which an index of version 1 lacks. 3: an original invoice's
 * `paidByMaturity`, which an index of version 2 lacks.
 */
export const STORE_VERSION = 3;

/** What makes an index belong to one deployment on one chain; any change means start over. */
export interface ChainIdentity {
  chainId: number;
  genesisHash: Hex;
  startBlock: number;
  /** Contract name -> lowercase address, for the contracts the indexer reads. */
  contracts: Record<string, Address>;
}

export interface Checkpoint {
  blockNumber: number;
  blockHash: Hex;
}

export interface StoredIndex {
  version: number;
  identity: ChainIdentity;
  /** Last block whose events are all in `state`. */
  checkpoint: Checkpoint | null;
  /** Hashes of the recent blocks, ascending, to find the fork point of a reorg. */
  recentBlocks: Checkpoint[];
  /** Every block above this number has its undo information in `undo` (blocks without events need none). */
  undoFloor: number;
  undo: BlockUndo[];
  state: IndexState;
}

/**
 * Run by a transactional store (PostgreSQL) inside the save's transaction before it writes anything;
 * throws to refuse the write (the process may no longer write: see store/postgres/leader.ts).
 */
export type WriteFence = (tx: { query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }> }) => Promise<void>;

export interface WriteStats {
  bytes: number;
  ms: number;
  /**
   * The write rewrote the whole index, not only what changed (a first commit, a rebuild, a writer's
   * first commit after taking the lock). On a store whose commit costs what changed, its cost says
   * nothing of what the next commit will cost per event.
   */
  whole?: boolean;
}

export interface IndexStore {
  /**
   * The saved document, or null when there is none; its repeated values shared (one copy of each
   * string and event reference: domain/intern.ts), as the indexer holds them when it reduces events.
   */
  load(): Promise<StoredIndex | null>;
  /**
   * Saves the document atomically and durably (a chain reset saves an empty one). `changes`: the
   * records and lists changed since the last save, for a store that writes only those (PostgreSQL);
   * null when the whole state must be written. The lowdb store always writes the whole document.
   * `fence`: see WriteFence (the lowdb store, one process's file, has no use for it).
   */
  save(doc: StoredIndex, changes?: ChangeSet | null, fence?: WriteFence): Promise<WriteStats>;
  /**
   * The most events one commit should carry on this store, when it prefers a number of its own to the
   * indexer's default (a store whose commit costs what changed commits more often).
   */
  readonly commitMaxEvents?: number;
  /**
   * True when, given `changes`, `save` takes everything it writes from `doc` before it returns its
   * promise: the caller may go on changing the state while the write is in flight (the indexer reduces
   * the next range meanwhile). The caller changes no record in place and cuts no list until the write
   * has settled. The lowdb store writes the whole document over several turns of the event loop: no.
   */
  readonly snapshotOnSave?: boolean;
  /**
   * True when a commit's cost follows what changed since the last one (PostgreSQL writes the changed rows),
   * not the size of the index (lowdb rewrites its file): the indexer then expects the next commit at the
   * head to cost per event what the last one did (indexer.ts commitInterval).
   */
  readonly costFollowsChanges?: boolean;
  /**
   * True when the store has not got what the indexer holds, whatever the indexer last saved: a process
   * that just took the index writer's lock owes the database its whole index (its earlier saves were
   * not written). The indexer then commits at its next poll, even when the chain has not moved.
   */
  readonly owesWrite?: boolean;
}

/** An undo row as the index file holds it (its previous records encoded as in the state). */
export function encodeUndo(b: BlockUndo): unknown {
  return {
    ...b,
    puts: b.puts.map((u) => (u.prev === undefined ? { coll: u.coll, key: u.key } : { ...u, prev: encodeRecord(u.coll, u.prev) })),
  };
}

function decodeUndo(b: BlockUndo): BlockUndo {
  return { ...b, puts: b.puts.map((u) => (u.prev === undefined ? u : { ...u, prev: decodeRecord(u.coll, u.prev) })) };
}

/**
 * The index file's text: the document with its undo rows and state encoded (amounts as decimal
 * strings), built record by record with a turn of the event loop every `sliceMs`, so requests are served while a large index is written (a single JSON.stringify of a
 * 50 MB index holds the process for most of a second). The indexer awaits a commit on this store
 * (it does not set `snapshotOnSave`), so the document does not change meanwhile.
 */
export async function serializeIndexYielding(doc: StoredIndex, sliceMs = 2): Promise<string> {
  const parts: string[] = [];
  let sliceStart = performance.now();
  let n = 0;
  const breathe = async () => {
    if (++n % 200 !== 0 || performance.now() - sliceStart < sliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  };
  const { state, undo, ...head } = doc;
  parts.push(JSON.stringify(head).slice(0, -1), ',"undo":[');
  for (let i = 0; i < undo.length; i++) {
    parts.push((i ? "," : "") + JSON.stringify(encodeUndo(undo[i])));
    await breathe();
  }
  parts.push('],"state":{');
  let firstColl = true;
  for (const [coll, value] of Object.entries(state) as [keyof IndexState, unknown][]) {
    parts.push(`${firstColl ? "" : ","}${JSON.stringify(coll)}:`);
    firstColl = false;
    if (value === null || typeof value !== "object") {
      parts.push(JSON.stringify(value));
      continue;
    }
    parts.push("{");
    let firstKey = true;
    for (const [key, record] of Object.entries(value as Record<string, unknown>)) {
      const encoded = encodeRecord(coll as RecordCollection, record as never);
      parts.push(`${firstKey ? "" : ","}${JSON.stringify(key)}:${JSON.stringify(encoded)}`);
      firstKey = false;
      await breathe();
    }
    parts.push("}");
  }
  parts.push("}}");
  return parts.join("");
}

/** The index file's document; of another version, only its head (an empty state: the indexer rebuilds it). */
export function parseIndex(text: string): StoredIndex {
  const raw = JSON.parse(text) as StoredIndex;
  if (raw.version !== STORE_VERSION) return { ...raw, undo: [], state: emptyIndexState() };
  return {
    ...raw,
    undo: raw.undo.map(decodeUndo),
    state: decodeIndexState(raw.state as unknown as Record<string, unknown>),
  };
}

/**
 * A lowdb adapter over the index file: bigint-aware codec, durable atomic writes, write timing. The
 * index is derived from the chain, so an unreadable file is moved aside (`index.json.corrupt-<time>`)
 * and the index is rebuilt from the chain, with a warning.
 */
class IndexFileAdapter {
  lastWrite: WriteStats = { bytes: 0, ms: 0 };
  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
  ) {}

  async read(): Promise<StoredIndex | null> {
    const text = await readFileIfExists(this.file);
    if (text === null) return null;
    try {
      return shareLoadedIndex(parseIndex(text));
    } catch (err) {
      const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      await rename(this.file, aside);
      this.warn(`${this.file} is unreadable (${(err as Error).message}); moved to ${aside}, rebuilding the index from the chain`);
      return null;
    }
  }

  async write(doc: StoredIndex | null): Promise<void> {
    if (!doc) return;
    const t0 = performance.now();
    const text = await serializeIndexYielding(doc);
    await writeFileAtomic(this.file, text);
    this.lastWrite = { bytes: Buffer.byteLength(text), ms: performance.now() - t0 };
  }
}

/** The lowdb-backed IndexStore (lowdb 7 is ESM-only; Node 20.19+ loads it through require()): `<dataDir>/index.json`. */
export async function createLowdbIndexStore(
  dataDir: string,
  warn: (message: string) => void = console.warn,
): Promise<IndexStore & { file: string }> {
  await mkdir(dataDir, { recursive: true });
  const adapter = new IndexFileAdapter(path.join(dataDir, "index.json"), warn);
  const db = new Low<StoredIndex | null>(adapter, null);
  return {
    file: adapter.file,
    async load() {
      await db.read();
      return db.data;
    },
    async save(doc) {
      db.data = doc;
      await db.write();
      return adapter.lastWrite;
    },
  };
}
