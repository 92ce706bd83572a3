/**
 * The embedded chain's write-ahead record: one framed, checksummed record per accepted state-changing
 * JSON-RPC call (node-service/src/store/framed-journal.ts), written, length-checked and fsynced before
 * the caller gets its answer. The Hardhat network has no state dump, so
 * this journal is what makes the in-memory chain survive a restart (see embedded-chain.ts).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { FramedJournal, JournalDamagedError } from "../../node-service/src/store/framed-journal";

export const JOURNAL_VERSION = 1;

/** First line: what the chain was created with, so a replay starts from the same genesis. */
export interface JournalHeader {
  kind: "genesis";
  v: number;
  /** Hardhat network `initialDate` (ISO); fixes the genesis timestamp and therefore its hash. */
  initialDate: string;
  chainId: number;
  genesisHash: string;
  /** Wall clock (seconds) when the chain was created. */
  wall: number;
}

/** One accepted call and what the chain looked like right after it. */
export interface JournalEntry {
  /** Sequence number, 1-based. */
  i: number;
  /** JSON-RPC method and params exactly as the client sent them. */
  m: string;
  p: unknown[];
  /** Timestamp of the first block this call mined, and how many blocks it mined (0: none). */
  ts?: number;
  k: number;
  /** Latest block number and hash after the call: the replay must reach the same. */
  n: number;
  h: string;
  /** Wall clock (seconds) when the call was accepted. */
  w: number;
  /** The call answered with an error but still changed the chain (a reverted transaction is mined). */
  e?: true;
}

export class JournalCorruptError extends Error {
  constructor(file: string, where: string, reason: string) {
    super(
      `chain journal ${file} is unreadable at ${where}: ${reason}. The embedded chain cannot be rebuilt past it: ` +
        "restore DATA_DIR from a backup, or start over with `npm start -- --fresh` (this discards the embedded chain and the service's data).",
    );
    this.name = "JournalCorruptError";
  }
}

export class ChainJournal {
  private count: number;

  /** `entries` are those read at open (for the replay); appended ones are not kept in memory. */
  private constructor(
    readonly file: string,
    private readonly journal: FramedJournal,
    readonly header: JournalHeader,
    readonly entries: readonly JournalEntry[],
  ) {
    this.count = entries.length;
  }

  get lastSeq(): number {
    return this.count;
  }

  static exists(file: string): boolean {
    return existsSync(file);
  }

  /** Creates a new journal with its header (the file must not exist). */
  static async create(file: string, header: JournalHeader): Promise<ChainJournal> {
    mkdirSync(path.dirname(file), { recursive: true });
    closeSync(openSync(file, "wx", 0o600));
    const framed = await FramedJournal.open(file, { onDamage: "refuse" }, () => undefined);
    await framed.append(header);
    fsyncDir(path.dirname(file));
    return new ChainJournal(file, framed, header, []);
  }

  /**
   * Opens an existing journal. A torn last record (the process died while writing it, so its caller
   * never got an answer) is cut off with a warning; a damaged record anywhere else refuses the start,
   * naming the byte offset: the replay needs every entry.
   */
  static async open(file: string, warn?: (message: string) => void): Promise<ChainJournal> {
    const values: unknown[] = [];
    let framed: FramedJournal;
    try {
      framed = await FramedJournal.open(file, { onDamage: "refuse", warn: (m) => warn?.(m) }, ({ value }) => values.push(value));
    } catch (err) {
      if (err instanceof JournalDamagedError) throw new JournalCorruptError(file, `byte offset ${err.damage.offset}`, err.damage.reason);
      throw err;
    }
    const fail = (where: string, reason: string): never => {
      void framed.close();
      throw new JournalCorruptError(file, where, reason);
    };
    if (values.length === 0) fail("byte offset 0", "no header record");
    const header = values[0] as JournalHeader;
    if (header.kind !== "genesis" || header.v !== JOURNAL_VERSION) fail("record 1", `not a version ${JOURNAL_VERSION} journal header`);
    const entries: JournalEntry[] = [];
    for (let n = 1; n < values.length; n++) {
      const entry = values[n] as JournalEntry;
      if (entry.i !== n || typeof entry.m !== "string" || !Array.isArray(entry.p)) fail(`record ${n + 1}`, `expected entry ${n}`);
      entries.push(entry);
    }
    return new ChainJournal(file, framed!, header, entries);
  }

  /** Appends one entry and makes it durable (length-checked, fsync'd) before resolving. */
  async append(entry: Omit<JournalEntry, "i">): Promise<JournalEntry> {
    const full = { i: this.count + 1, ...entry } as JournalEntry;
    await this.journal.append(full);
    this.count++;
    return full;
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
