/**
 * Keyed JSON records in PostgreSQL (table `records`, one row per kind and id): the RecordStore of
 * applications/journal-store.ts for the applications and the RFC 3161 timestamps. A put is one
 * upsert (its own transaction) and resolves after COMMIT; the record becomes visible to get/all only
 * then, so a failed put leaves the previous version. Reads are served from the copy loaded at open
 * and kept by this process's puts, refreshed (refresh(id)) when another process writes (LISTEN/NOTIFY
 * on the channel `records`, payload `<kind>:<id>`).
 */
import type { RecordStore } from "../record-store";
import type { Database } from "./db";

export const RECORDS_CHANNEL = "records";

export class PostgresRecordStore<T extends { id: string }> implements RecordStore<T> {
  private readonly records = new Map<string, T>();

  private constructor(
    private readonly db: Database,
    readonly kind: string,
  ) {}

  static async open<T extends { id: string }>(db: Database, kind: string): Promise<PostgresRecordStore<T>> {
    const store = new PostgresRecordStore<T>(db, kind);
    const rows = await db.pool.query<{ value: T }>("SELECT value FROM records WHERE kind = $1", [kind]);
    for (const r of rows.rows) store.records.set(r.value.id, r.value);
    return store;
  }

  get(id: string): T | undefined {
    const r = this.records.get(id);
    return r && structuredClone(r);
  }

  all(): T[] {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  where(match: (record: Readonly<T>) => boolean): T[] {
    const out: T[] = [];
    for (const r of this.records.values()) if (match(r)) out.push(structuredClone(r));
    return out;
  }

  async put(record: T): Promise<void> {
    const copy = structuredClone(record);
    await this.db.tx(async (client) => {
      await client.query(
        "INSERT INTO records (kind, id, value) VALUES ($1, $2, $3) ON CONFLICT (kind, id) DO UPDATE SET value = EXCLUDED.value",
        [this.kind, copy.id, JSON.stringify(copy)],
      );
      await client.query("SELECT pg_notify($1, $2)", [RECORDS_CHANNEL, `${this.kind}:${copy.id}`]);
    });
    this.records.set(copy.id, copy);
  }

  /** Reads one record again from the database (another process wrote it); returns it. */
  async refresh(id: string): Promise<T | undefined> {
    const rows = await this.db.pool.query<{ value: T }>("SELECT value FROM records WHERE kind = $1 AND id = $2", [this.kind, id]);
    const r = rows.rows[0]?.value;
    if (r) this.records.set(id, r);
    else this.records.delete(id);
    return r && structuredClone(r);
  }

  async close(): Promise<void> {
    // The pool belongs to the caller.
  }
}
