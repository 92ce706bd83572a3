/**
 * The one append-only journal format of DATA_DIR: the applications journal, the access log and the
 * embedded chain's journal all write through it.
 *
 * Each record is one line, `<byte length> <crc32 hex> <JSON>\n`. The length catches a torn write, the
 * checksum catches a changed byte, and the newline lets a reader find the next record after damage.
 * Opening a journal reads it front to back:
 * - an incomplete last record (the process died while writing it, so it was never acknowledged) is
 *   cut off with a warning;
 * - damage anywhere else is an incident: with `onDamage: "refuse"` opening fails with the file and
 *   the byte offset; with `onDamage: "quarantine"` the damaged bytes are copied to
 *   `<file>.quarantine` (with their offsets), the journal is rewritten with every readable record, and
 *   opening goes on. Records after the damage are never dropped.
 * Appends write at the known end, check the byte count, and fsync before resolving. A failed append
 * (ENOSPC, EIO) truncates the file back to its last complete record, so the next append (once space is
 * back) never lands after half a record.
 *
 * Lines holding a bare JSON object (the format before framing) are read as records, so existing data
 * directories still open.
 */
import { appendFileSync, closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, writeSync } from "node:fs";
import { open as openAsync, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
import { GroupCommit } from "./group-commit";
import { storageHealth } from "./storage-health";

export interface JournalDamage {
  /** Byte offset of the first damaged byte and how many bytes are damaged. */
  offset: number;
  length: number;
  reason: string;
}

export class JournalDamagedError extends Error {
  constructor(
    readonly file: string,
    readonly damage: JournalDamage,
    advice: string,
  ) {
    super(`journal ${file} is damaged at byte offset ${damage.offset} (${damage.length} bytes: ${damage.reason}). ${advice}`);
    this.name = "JournalDamagedError";
  }
}

export interface OpenJournalOptions {
  /** What to do when a record inside the file (not its tail) is unreadable. */
  onDamage: "refuse" | "quarantine";
  /** Told about a cut tail and about quarantined damage. */
  warn?: (message: string, details: Record<string, unknown>) => void;
  /** Appended to the refusal message: what the operator should do. */
  advice?: string;
}

export interface JournalRecord {
  /** Byte offset of the record's line in the file (after a quarantine rewrite: in the rewritten file). */
  offset: number;
  value: unknown;
}

const LINE = /^(\d{1,10}) ([0-9a-f]{8}) /;

/** Encodes one record as its framed line. */
export function frame(value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value), "utf8");
  const head = Buffer.from(`${payload.length} ${crc32(payload).toString(16).padStart(8, "0")} `, "utf8");
  return Buffer.concat([head, payload, Buffer.from("\n")]);
}

/** Decodes one line (without its newline); throws with the reason when it is not a whole, intact record. */
export function unframe(line: Buffer): unknown {
  const text = line.toString("utf8", 0, Math.min(line.length, 24));
  const m = LINE.exec(text);
  if (!m) {
    if (line[0] === 0x7b) return JSON.parse(line.toString("utf8")) as unknown; // unframed line of the old format
    throw new Error("no record header");
  }
  const start = m[0].length;
  const payload = line.subarray(start);
  if (payload.length !== Number(m[1])) throw new Error(`length ${payload.length}, header says ${m[1]}`);
  const sum = crc32(payload).toString(16).padStart(8, "0");
  if (sum !== m[2]) throw new Error(`checksum ${sum}, header says ${m[2]}`);
  return JSON.parse(payload.toString("utf8")) as unknown;
}

const CHUNK = 1 << 20;

/** Splits a file into lines (offset, bytes, whether a newline ended it) without holding the file. */
function* lines(fd: number): Generator<{ offset: number; bytes: Buffer; complete: boolean }> {
  let carry = Buffer.alloc(0);
  let carryOffset = 0;
  let position = 0;
  const buf = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK, position);
    if (n === 0) break;
    position += n;
    let data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : Buffer.from(buf.subarray(0, n));
    let base = carryOffset;
    let nl: number;
    while ((nl = data.indexOf(0x0a)) >= 0) {
      yield { offset: base, bytes: data.subarray(0, nl), complete: true };
      data = data.subarray(nl + 1);
      base += nl + 1;
    }
    carry = data;
    carryOffset = base;
  }
  if (carry.length) yield { offset: carryOffset, bytes: carry, complete: false };
}

/** A journal open for appending, with the records it held. */
export class FramedJournal {
  private handle: FileHandle | null;
  /** Byte length of the complete records: where the next append goes. */
  private end: number;
  /** Records arriving while a write runs share the next write and fsync. */
  private readonly writes = new GroupCommit<Buffer, number>((frames) => this.writeFrames(frames));

  private constructor(
    readonly file: string,
    handle: FileHandle,
    end: number,
  ) {
    this.handle = handle;
    this.end = end;
  }

  /** Bytes of complete records in the file. */
  get size(): number {
    return this.end;
  }

  /**
   * Opens (creating when missing) a journal and calls `onRecord` for each readable record in order.
   * See the module comment for how a torn tail and damage inside are handled.
   */
  static async open(file: string, opts: OpenJournalOptions, onRecord: (r: JournalRecord) => void): Promise<FramedJournal> {
    mkdirSync(path.dirname(file), { recursive: true });
    closeSync(openSync(file, "a", 0o600));
    const rfd = openSync(file, "r+");
    let end = 0;
    const records: JournalRecord[] = [];
    try {
      const damaged: (JournalDamage & { bytes: Buffer })[] = [];
      const kept: Buffer[] = [];
      let pendingDamage: (JournalDamage & { bytes: Buffer }) | null = null;
      for (const line of lines(rfd)) {
        let value: unknown;
        let error: string | null = null;
        if (!line.complete) error = "incomplete last record";
        else if (line.bytes.length === 0) error = "empty line";
        else {
          try {
            value = unframe(line.bytes);
          } catch (err) {
            error = (err as Error).message;
          }
        }
        if (error === null) {
          if (pendingDamage) {
            damaged.push(pendingDamage);
            pendingDamage = null;
          }
          records.push({ offset: line.offset, value });
          kept.push(line.bytes);
          end = line.offset + line.bytes.length + 1;
          continue;
        }
        // Damage is "inside" only when a readable record follows it; otherwise it is the torn tail.
        const bytes = line.complete ? Buffer.concat([line.bytes, Buffer.from("\n")]) : line.bytes;
        if (pendingDamage) {
          pendingDamage.length = line.offset + bytes.length - pendingDamage.offset;
          pendingDamage.bytes = Buffer.concat([pendingDamage.bytes, bytes]);
        } else {
          pendingDamage = { offset: line.offset, length: bytes.length, reason: error, bytes };
        }
      }
      const tail = pendingDamage;

      if (damaged.length > 0) {
        if (opts.onDamage === "refuse") throw new JournalDamagedError(file, damaged[0], opts.advice ?? "Restore the file from a backup.");
        // Quarantine: keep the damaged bytes beside the file, then replace the journal (atomically) by every readable record.
        const quarantine = `${file}.quarantine`;
        for (const d of damaged) {
          appendFileSync(quarantine, `# ${new Date().toISOString()} offset ${d.offset} length ${d.length}: ${d.reason}\n`, { mode: 0o600 });
          appendFileSync(quarantine, Buffer.concat([d.bytes, Buffer.from("\n")]));
        }
        fsyncFile(quarantine);
        const body = Buffer.concat(kept.flatMap((b) => [b, Buffer.from("\n")]));
        writeFileAtomicSync(file, body);
        for (const d of damaged) {
          opts.warn?.(
            `journal ${file} was damaged at byte offset ${d.offset} (${d.reason}): ${d.length} bytes moved to ${quarantine}; every readable record is kept`,
            {
              file,
              offset: d.offset,
              length: d.length,
              reason: d.reason,
              quarantine,
            },
          );
          storageHealth.incident(file, `damaged at byte offset ${d.offset} (${d.reason}); ${d.length} bytes quarantined in ${quarantine}`);
        }
        end = body.length;
        let offset = 0;
        for (let i = 0; i < records.length; i++) {
          records[i].offset = offset;
          offset += kept[i].length + 1;
        }
      } else if (tail) {
        opts.warn?.(
          `journal ${file}: cut an incomplete last record at byte offset ${tail.offset} (${tail.length} bytes: ${tail.reason}); it was never acknowledged`,
          {
            file,
            offset: tail.offset,
            length: tail.length,
          },
        );
        ftruncateSync(rfd, tail.offset);
        fsyncSync(rfd);
        end = tail.offset;
      }
    } finally {
      closeSync(rfd);
    }
    for (const r of records) onRecord(r);
    return new FramedJournal(file, await openAsync(file, "r+"), end);
  }

  /**
   * Appends one record and resolves (with its byte offset) once it is durable: every byte written and
   * checked, fsync'd. On a failure the file is cut back to its last complete record, the error is
   * thrown (and reported on /healthz until an append succeeds again); a later append may succeed.
   */
  append(value: unknown): Promise<number> {
    if (!this.handle) return Promise.reject(new Error(`journal ${this.file} is closed`));
    return this.writes.add(frame(value));
  }

  /** One write and fsync of `frames` at the end; resolves with each one's offset. */
  private async writeFrames(frames: Buffer[]): Promise<number[]> {
    const handle = this.handle;
    if (!handle) throw new Error(`journal ${this.file} is closed`);
    const data = Buffer.concat(frames);
    try {
      // An earlier failed append may have left bytes that could not be cut then: cut them now.
      if ((await handle.stat()).size !== this.end) await handle.truncate(this.end);
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, this.end + done);
        if (bytesWritten <= 0) throw Object.assign(new Error(`short write: ${done} of ${data.length} bytes`), { code: "EIO" });
        done += bytesWritten;
      }
      await handle.sync();
    } catch (err) {
      await handle.truncate(this.end).catch(() => undefined);
      storageHealth.failed(this.file, err);
      throw err;
    }
    const offsets: number[] = [];
    for (const f of frames) {
      offsets.push(this.end);
      this.end += f.length;
    }
    storageHealth.written(this.file);
    return offsets;
  }

  /** Reads the record at a byte offset given by open() or append(). */
  async read(offset: number): Promise<unknown> {
    if (!this.handle) throw new Error(`journal ${this.file} is closed`);
    const buf = Buffer.allocUnsafe(4096);
    let line = Buffer.alloc(0);
    let position = offset;
    for (;;) {
      const { bytesRead } = await this.handle.read(buf, 0, buf.length, position);
      if (bytesRead === 0) throw new Error(`journal ${this.file}: no complete record at byte offset ${offset}`);
      const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
      line = Buffer.concat([line, buf.subarray(0, nl >= 0 ? nl : bytesRead)]);
      if (nl >= 0) return unframe(line);
      position += bytesRead;
    }
  }

  /** Empties the journal (after its records were saved elsewhere, e.g. a snapshot), durably. */
  async clear(): Promise<void> {
    await this.writes.settled();
    if (!this.handle) throw new Error(`journal ${this.file} is closed`);
    await this.handle.truncate(0);
    await this.handle.sync();
    this.end = 0;
  }

  async close(): Promise<void> {
    await this.writes.settled();
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Synchronous temp file + fsync + rename + directory fsync (start-up only). */
function writeFileAtomicSync(file: string, data: Buffer): void {
  const tmp = `${file}.rewrite.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeAll(fd, data, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncFile(path.dirname(file));
}

/** writeSync until every byte is written (a short write is not an error by itself, so it is checked). */
function writeAll(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) {
    const n = writeSync(fd, data, done, data.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error(`short write: ${done} of ${data.length} bytes`), { code: "EIO" });
    done += n;
  }
}
