/**
 * The embedded chain's write-ahead record: one JSON line per accepted state-changing JSON-RPC call,
 * appended and fsynced before the caller gets its answer. The Hardhat network has no state dump, so
 * this journal is what makes the in-memory chain survive a restart (see embedded-chain.ts).
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import path from "node:path";

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
  constructor(file: string, line: number, reason: string) {
    super(`chain journal ${file} is unreadable at line ${line}: ${reason}`);
    this.name = "JournalCorruptError";
  }
}

export class ChainJournal {
  private count: number;

  /** `entries` are those read at open (for the replay); appended ones are not kept in memory. */
  private constructor(
    readonly file: string,
    private fd: number,
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
  static create(file: string, header: JournalHeader): ChainJournal {
    mkdirSync(path.dirname(file), { recursive: true });
    const fd = openSync(file, "wx", 0o600);
    const journal = new ChainJournal(file, fd, header, []);
    journal.writeLine(header);
    fsyncDir(path.dirname(file));
    return journal;
  }

  /**
   * Opens an existing journal. A torn last line (the process died while writing it, so its caller
   * never got an answer) is cut off; anything else unreadable is corruption.
   */
  static open(file: string): ChainJournal {
    const text = readFileSync(file, "utf8");
    const lastNewline = text.lastIndexOf("\n");
    const complete = text.slice(0, lastNewline + 1);
    const lines = complete.split("\n").filter((l) => l.length > 0);
    if (lines.length === 0) throw new JournalCorruptError(file, 1, "no header line");
    let header: JournalHeader;
    try {
      header = JSON.parse(lines[0]) as JournalHeader;
    } catch (err) {
      throw new JournalCorruptError(file, 1, (err as Error).message);
    }
    if (header.kind !== "genesis" || header.v !== JOURNAL_VERSION) {
      throw new JournalCorruptError(file, 1, `not a version ${JOURNAL_VERSION} journal header`);
    }
    const entries: JournalEntry[] = [];
    for (let n = 1; n < lines.length; n++) {
      let entry: JournalEntry;
      try {
        entry = JSON.parse(lines[n]) as JournalEntry;
      } catch (err) {
        throw new JournalCorruptError(file, n + 1, (err as Error).message);
      }
      if (entry.i !== n || typeof entry.m !== "string" || !Array.isArray(entry.p)) {
        throw new JournalCorruptError(file, n + 1, `expected entry ${n}`);
      }
      entries.push(entry);
    }
    const fd = openSync(file, "r+");
    if (complete.length !== text.length) {
      ftruncateSync(fd, Buffer.byteLength(complete));
      fsyncSync(fd);
    }
    closeSync(fd);
    return new ChainJournal(file, openSync(file, "a"), header, entries);
  }

  /** Appends one entry and makes it durable before returning. */
  append(entry: Omit<JournalEntry, "i">): JournalEntry {
    const full = { i: this.count + 1, ...entry } as JournalEntry;
    this.writeLine(full);
    this.count++;
    return full;
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private writeLine(value: unknown): void {
    if (this.fd < 0) throw new Error("chain journal is closed");
    writeSync(this.fd, `${JSON.stringify(value)}\n`);
    fsyncSync(this.fd);
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
