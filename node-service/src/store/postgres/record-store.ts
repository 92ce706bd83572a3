/**
 * Keyed JSON records in PostgreSQL (table `records`, one row per kind and id): the RecordStore of
 * applications/journal-store.ts for the applications and the RFC 3161 timestamps. A put is one
 * upsert statement (its own transaction, one round trip) and resolves after its commit; the record
 * becomes visible to get/all only then, so a failed put leaves the previous version. Reads are served
 * from the copy loaded at open and kept by this process's puts, refreshed (refresh(id), reload()) when another process writes: each
 * put sends `pg_notify('records', '<kind>:<id>|<tag>')` in its transaction, and the process's one LISTEN
 * connection (listener.ts) calls refresh. A put and a refresh of the same id run one at a time, so a
 * refresh that read an older version never lands over a newer put of this process. The tag names the
 * put (this store's own random prefix and a count): a refresh told of the last put this process saw
 * committed reads nothing, since that version is the copy held (the record was read back after each
 * of the process's own puts before: a select, a parse and a comparison of the whole record per write).
 *
 * Two processes changing the same record: a put replaces the row only if the row is still the version
 * this process last held (compare-and-set on the jsonb value); otherwise nothing is written, this
 * process's copy is read again, and the put fails with a 409 ConflictError (the request is retried by
 * its client, a background job at its next pass), so neither process's change is silently lost.
 *
 * A rule over several records (one borrower's applications: an Idempotency-Key gives one application,
 * a receivable is in one live application) cannot rest on one row's version: with an `InsertGuard`,
 * a new record is inserted in a transaction that first takes an advisory lock on its group (e.g. its
 * borrower) and reads the group's committed records, and the guard's check may refuse it there, so
 * two processes creating at once see each other's records. The check reads each record's head (the
 * guard's fields, written with the record), not the whole record. While this process's copy of the
 * group is what the database holds (the usual case: it hears every write), the lock and an insert
 * conditioned on the group reading as that copy go in one round trip instead of five
 * (insertIfGroupAsHeld).
 */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import pg from "pg";
import { ConflictError } from "../../domain/errors";
import { InMemoryRecords } from "../record-store";
import { KeyedQueue } from "../keyed-queue";
import { lockKeyOf, type Database } from "./db";
import { changePayload, RECORDS_CHANNEL } from "./listener";

export { RECORDS_CHANNEL };

/**
 * Checks a new record against the committed records of its group, under a lock on the group. Only the
 * `reads` fields of the committed records are fetched (a group's records may be large and many); the
 * group is found through an index on `field` (migration 005_records_groups.sql for the applications).
 */
export interface InsertGuard<T, K extends keyof T = keyof T> {
  /** The top-level string field of a record that names its group (e.g. "borrower"). */
  field: keyof T & string;
  /** The top-level fields the check reads of the committed records. */
  reads: readonly K[];
  /** Throws to refuse `record` (nothing is written), given the group's committed records. */
  check(record: T, committed: Pick<T, K>[]): void;
}

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** A record's head (column `head`, migration 006): the guard's fields of the jsonb `value`, without nulls. */
const headSql = (reads: readonly PropertyKey[], value = "value") =>
  `jsonb_strip_nulls(jsonb_build_object(${reads.map((f) => `'${String(f)}', ${value}->'${String(f)}'`).join(", ")}))`;

/**
 * The heads of a group's committed records (`kind` and `group`: SQL expressions); a head missing (a
 * row an earlier version wrote since this process opened the store) is taken from the value.
 */
const groupHeadsSql = (reads: readonly PropertyKey[], field: string, kind: string, group: string) =>
  `SELECT id, COALESCE(head, ${headSql(reads)}) AS head FROM records WHERE kind = ${kind} AND value->>'${field}' = ${group}`;

/** A write's parts: their values, or their SQL (parameters $1..., or in a batch literals). */
interface WriteParts {
  kind: string;
  id: string;
  /** A jsonb expression. */
  value: string;
  channel: string;
  payload: string;
}
const WRITE_PARAMS: WriteParts = { kind: "$1", id: "$2", value: "$3::jsonb", channel: "$4", payload: "$5" };
/** A write's values (`value`: the record's JSON) in WRITE_PARAMS' order. */
const paramsOf = (w: WriteParts) => [w.kind, w.id, w.value, w.channel, w.payload];
/** A write's values as SQL literals, for a batch (the simple protocol carries no parameters). */
const literalsOf = (w: WriteParts): WriteParts => ({
  kind: pg.escapeLiteral(w.kind),
  id: pg.escapeLiteral(w.id),
  value: `${pg.escapeLiteral(w.value)}::jsonb`,
  channel: pg.escapeLiteral(w.channel),
  payload: pg.escapeLiteral(w.payload),
});

/**
 * Writes the record, with its head when the kind is guarded (`reads`), and notifies in the same
 * statement (one round trip): only when a row was written. `where`: a condition on the insert.
 */
const writeSql = (p: WriteParts, reads: readonly PropertyKey[] | undefined, onConflict: string, where = "") =>
  `WITH written AS (INSERT INTO records (kind, id, value, head) SELECT ${p.kind}, ${p.id}, v, ${reads ? headSql(reads, "v") : "NULL"} ` +
  `FROM (SELECT ${p.value} AS v) AS given ${where} ${onConflict} RETURNING 1) SELECT pg_notify(${p.channel}, ${p.payload}) FROM written`;
/** A new record: nothing is written over a row of the same id. */
const INSERT_NEW = "ON CONFLICT (kind, id) DO NOTHING";
/** A change: written only over the version this process held ($6; compare-and-set). */
const UPDATE_IF_HELD = "ON CONFLICT (kind, id) DO UPDATE SET value = EXCLUDED.value, head = EXCLUDED.head WHERE records.value = $6::jsonb";

/** headSql of a record held in memory: what the database would give for it (JSON's values, nulls stripped at every level of objects). */
function pickedAsStored<T>(record: T, reads: readonly (keyof T)[]): Pick<T, keyof T> {
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).flatMap(([k, x]) => (x === null ? [] : [[k, strip(x)]])))
        : v;
  return strip(JSON.parse(JSON.stringify(Object.fromEntries(reads.map((f) => [f, record[f]]))))) as Pick<T, keyof T>;
}

export class PostgresRecordStore<T extends { id: string }> extends InMemoryRecords<T> {
  /** Per id: the tail of its puts and refreshes (one at a time). */
  private readonly queues = new KeyedQueue();
  /** Per id: the sequence number of the last put or refresh that set this process's copy (see reload). */
  private readonly setAt = new Map<string, number>();
  private seq = 0;
  /** This store's puts are tagged `<writer>.<n>`, n counting up. */
  private readonly writer = randomUUID();
  private puts = 0;
  /** Per id: the n of this process's last put seen committed, until its notification comes back. */
  private readonly ownPuts = new Map<string, number>();

  private constructor(
    private readonly db: Database,
    readonly kind: string,
    private readonly guard?: InsertGuard<T, keyof T>,
  ) {
    super();
  }

  static async open<T extends { id: string }, K extends keyof T = keyof T>(
    db: Database,
    kind: string,
    guard?: InsertGuard<T, K>,
  ): Promise<PostgresRecordStore<T>> {
    // Field names go into the guard's SQL as text (so the group's index serves it): names only.
    if (guard && ![guard.field, ...guard.reads].every((f) => FIELD_NAME.test(String(f))))
      throw new Error(`${kind}: an insert guard reads top-level fields by plain name`);
    const store = new PostgresRecordStore<T>(db, kind, guard as InsertGuard<T, keyof T> | undefined);
    const rows = await db.pool.query<{ value: T; head: unknown }>("SELECT value, head FROM records WHERE kind = $1", [kind]);
    for (const r of rows.rows) store.records.set(r.value.id, r.value);
    // Rows written before heads existed (or by a version reading other fields) get theirs, from the
    // values this load read anyway: only those rows are written.
    if (guard) {
      const stale = rows.rows.filter((r) => !isDeepStrictEqual(r.head, pickedAsStored(r.value, guard.reads))).map((r) => r.value.id);
      if (stale.length > 0)
        await db.statement(`UPDATE records SET head = ${headSql(guard.reads)} WHERE kind = $1 AND id = ANY($2::text[])`, [kind, stale]);
    }
    return store;
  }

  private serial<R>(id: string, fn: () => Promise<R>): Promise<R> {
    return this.queues.run(id, fn);
  }

  async put(record: T): Promise<void> {
    const copy = structuredClone(record);
    await this.serial(copy.id, () => this.write(copy));
  }

  private async write(copy: T): Promise<void> {
    const held = this.records.get(copy.id);
    const n = ++this.puts;
    const notice = changePayload(this.kind, copy.id, `${this.writer}.${n}`);
    const write: WriteParts = { kind: this.kind, id: copy.id, value: JSON.stringify(copy), channel: RECORDS_CHANNEL, payload: notice };
    const written =
      held || !this.guard
        ? (
            await this.db.statement(writeSql(WRITE_PARAMS, this.guard?.reads, held ? UPDATE_IF_HELD : INSERT_NEW), [
              ...paramsOf(write),
              ...(held ? [JSON.stringify(held)] : []),
            ])
          ).rowCount === 1
        : (await this.insertIfGroupAsHeld(this.guard, copy, write)) || (await this.insertGuarded(this.guard, copy, write));
    if (!written) {
      const rows = await this.db.pool.query<{ value: T }>("SELECT value FROM records WHERE kind = $1 AND id = $2", [this.kind, copy.id]);
      this.adopt(copy.id, rows.rows[0]?.value);
      throw new ConflictError(`${this.kind} ${copy.id} was changed by another service process meanwhile: read it again and retry`);
    }
    this.records.set(copy.id, copy);
    this.setAt.set(copy.id, ++this.seq);
    this.ownPuts.set(copy.id, n);
  }

  /**
   * A guarded insert in one round trip: when the check passes on this process's copy of the group, the
   * group's lock and then the insert, made only if the group's committed records read exactly as that
   * copy does (so the check passes on them too; the insert's own snapshot is taken after the lock). False
   * when nothing was written: the copy is behind the database (another process wrote to the group), the
   * check refused on the copy, or the id exists; insertGuarded then decides on the committed records.
   */
  private async insertIfGroupAsHeld(guard: InsertGuard<T>, copy: T, write: WriteParts): Promise<boolean> {
    const group = String(copy[guard.field]);
    const asHeld = new Map<string, Pick<T, keyof T>>();
    for (const r of this.records.values())
      if (r[guard.field] !== undefined && r[guard.field] !== null && String(r[guard.field]) === group)
        asHeld.set(r.id, pickedAsStored(r, guard.reads));
    try {
      guard.check(copy, [...asHeld.values()]);
    } catch {
      return false;
    }
    const lit = pg.escapeLiteral;
    // The first statement's lock is held to the batch's end; the second's snapshot is taken after it.
    const [, inserted] = await this.db.batch([
      `SELECT pg_advisory_xact_lock(${lit(lockKeyOf(this.kind, guard.field, group))}::bigint)`,
      writeSql(
        literalsOf(write),
        guard.reads,
        INSERT_NEW,
        `WHERE (SELECT COALESCE(jsonb_object_agg(id, head), '{}'::jsonb) FROM (${groupHeadsSql(guard.reads, guard.field, lit(this.kind), lit(group))}) AS heads) ` +
          `= ${lit(JSON.stringify(Object.fromEntries(asHeld)))}::jsonb`,
      ),
    ]);
    return inserted.rowCount === 1;
  }

  /** A guarded insert decided on the group's committed records, read under the group's lock. */
  private insertGuarded(guard: InsertGuard<T>, copy: T, write: WriteParts): Promise<boolean> {
    return this.db.tx(async (client) => {
      const group = String(copy[guard.field]);
      await client.query("SELECT pg_advisory_xact_lock($1)", [lockKeyOf(this.kind, guard.field, group)]);
      const rows = await client.query<{ head: T }>(groupHeadsSql(guard.reads, guard.field, "$1", "$2"), [this.kind, group]);
      guard.check(
        copy,
        rows.rows.map((r) => r.head),
      );
      const res = await client.query(writeSql(WRITE_PARAMS, guard.reads, INSERT_NEW), paramsOf(write));
      return res.rowCount === 1;
    });
  }

  /**
   * Reads one record again from the database (another process wrote it). Returns it when it differs
   * from the copy this process held (so a process's own write, notified back to it, is no change).
   * `tag`: the notified write's. A put of this process up to its last one of `id` seen committed is not
   * read again: that last put replaced exactly the version this process held (compare-and-set), so no
   * other process wrote in between, and what another writes after it is notified with its own tag.
   */
  refresh(id: string, tag?: string): Promise<T | undefined> {
    return this.serial(id, async () => {
      const last = this.ownPuts.get(id);
      const n = tag?.startsWith(`${this.writer}.`) ? Number(tag.slice(this.writer.length + 1)) : NaN;
      if (last !== undefined && n <= last) {
        if (n === last) this.ownPuts.delete(id);
        return undefined;
      }
      const rows = await this.db.pool.query<{ value: T }>("SELECT value FROM records WHERE kind = $1 AND id = $2", [this.kind, id]);
      return this.adopt(id, rows.rows[0]?.value);
    });
  }

  /** Takes the database's version of `id` (undefined: no row); returns it when it differs from the copy held. */
  private adopt(id: string, r: T | undefined): T | undefined {
    this.setAt.set(id, ++this.seq);
    const held = this.records.get(id);
    if (!r) {
      this.records.delete(id);
      return undefined;
    }
    // jsonb keeps its own key order: compare values, as JSON would carry them.
    if (held && isDeepStrictEqual(JSON.parse(JSON.stringify(held)), r)) return undefined;
    this.records.set(id, r);
    return structuredClone(r);
  }

  /**
   * Reads every record of the kind again in one query (notifications may have been missed); returns
   * those that changed. A record this process put or refreshed after the query began keeps that newer copy.
   */
  async reload(): Promise<T[]> {
    const from = this.seq;
    // Notifications may have been lost: tags still waiting for theirs are dropped (at worst one read more).
    this.ownPuts.clear();
    const rows = await this.db.pool.query<{ value: T }>("SELECT value FROM records WHERE kind = $1", [this.kind]);
    const found = new Map(rows.rows.map((r) => [r.value.id, r.value]));
    const ids = new Set([...found.keys(), ...this.records.keys()]);
    const changed: T[] = [];
    for (const id of ids) {
      const r = await this.serial(id, async () => ((this.setAt.get(id) ?? 0) > from ? undefined : this.adopt(id, found.get(id))));
      if (r) changed.push(r);
    }
    return changed;
  }

  async close(): Promise<void> {
    await this.updatesSettled();
    await this.queues.settled();
    // The pool belongs to the caller.
  }
}
