/**
 * The access log: every read of an enterprise's data by someone other than that enterprise, with who,
 * when, which scopes, on what basis (the consent in force, or the operator's role) and for which
 * application. An append-only framed journal under DATA_DIR (store/framed-journal.ts: one checksummed
 * record per read, fsync'd before the read is answered; a torn tail is cut, a damaged record is
 * quarantined without losing the ones after it). Only each enterprise's record offsets are kept in
 * memory; pages are read from the file. The enterprise reads its own entries at
 * GET /api/enterprises/:address/access-log (newest first, `limit` and `cursor`).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";
import type { Address } from "../domain/entities";
import { FramedJournal, type OpenJournalOptions } from "../store/framed-journal";
import { GroupCommit, Refused } from "../store/group-commit";
import { isDatabaseUnavailable, type Database } from "../store/postgres/db";

export interface AccessLogEntry {
  id: string;
  /** ISO 8601 wall-clock time of the read. */
  at: string;
  enterprise: Address;
  reader: Address;
  /**
   * Why the read was allowed: the enterprise's consent in force, the operator's or an auditor's role,
   * being a party of the record read (a document linked to a shared order), a consortium member's
   * session (trade evidence), or the underwriting policy (a debtor's tier and advance rate only).
   */
  basis: "consent" | "operator" | "auditor" | "party" | "member" | "policy";
  /** Names of the scopes the read used (see SCOPE). */
  scopes: string[];
  /** The route read, e.g. "GET /api/enterprises/:address/metrics". */
  resource: string;
  applicationId?: string;
  /** The consent in force at the read (block seconds), when the basis is consent. */
  consent?: { scopes: string[]; grantedAt: number; expiresAt: number; checkedAt: number };
  requestId?: string;
}

export interface AccessLogPage {
  /** Entries of the enterprise in the log. */
  total: number;
  /** Newest first. */
  items: AccessLogEntry[];
  /** Pass as `cursor` to read the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export interface AccessLog {
  /**
   * Resolves once the entry is durable (framed, written, fsync'd); the read it records may then be answered.
   * `id` and `at` are given when the entry was made durable elsewhere first (a decision's reads, stored
   * with its record): an entry with an id the log holds is not written twice.
   */
  append(entry: Omit<AccessLogEntry, "id" | "at"> & Partial<Pick<AccessLogEntry, "id" | "at">>): Promise<AccessLogEntry>;
  /** One page of the enterprise's entries, newest first, read from disk; `cursor` from the previous page. */
  page(enterprise: Address, opts: { limit: number; cursor?: string; offset?: number }): Promise<AccessLogPage>;
  /**
   * Whether the entry with this id is durable in the log; known for the entries that name an application
   * (the file log keeps their ids in memory). Absent on PostgreSQL.
   */
  has?(id: string): boolean;
  close(): Promise<void>;
}

const FILE_NAME = "access-log.jsonl";

/** The entry an append writes: its given id and time (copied from a stored decision), or new ones. */
function entryOf(fields: Parameters<AccessLog["append"]>[0]): AccessLogEntry {
  return { ...fields, id: fields.id ?? randomUUID(), at: fields.at ?? new Date().toISOString() };
}

export async function openAccessLog({ dataDir, warn }: { dataDir: string; warn?: OpenJournalOptions["warn"] }): Promise<AccessLog> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, FILE_NAME);
  // In memory: only each enterprise's entry offsets in the file (the entries stay on disk).
  const byEnterprise = new Map<Address, number[]>();
  const index = (enterprise: Address, offset: number) => {
    const list = byEnterprise.get(enterprise);
    if (list) list.push(offset);
    else byEnterprise.set(enterprise, [offset]);
  };
  // Ids of the entries that name an application: a decision's reads are copied here from its record, and
  // completed at start from the records (applications/service.ts), so the log must tell which it holds.
  const applicationEntryIds = new Set<string>();
  const journal = await FramedJournal.open(file, { onDamage: "quarantine", warn }, ({ offset, value }) => {
    const entry = value as AccessLogEntry;
    index(entry.enterprise, offset);
    if (entry.applicationId !== undefined) applicationEntryIds.add(entry.id);
  });
  /** Appends not yet durable: a page waits for them, so a read answered before its copy landed is listed. */
  const writing = new Map<string, Promise<AccessLogEntry>>();

  return {
    append(fields) {
      const entry = entryOf(fields);
      if (applicationEntryIds.has(entry.id)) return Promise.resolve(entry);
      const pending = writing.get(entry.id);
      if (pending) return pending;
      const write = journal.append(entry).then((offset) => {
        index(entry.enterprise, offset);
        if (entry.applicationId !== undefined) applicationEntryIds.add(entry.id);
        return entry;
      });
      writing.set(entry.id, write);
      void write.then(
        () => writing.delete(entry.id),
        () => writing.delete(entry.id),
      );
      return write;
    },
    has: (id) => applicationEntryIds.has(id),
    async page(enterprise, { limit, cursor, offset = 0 }) {
      await Promise.allSettled([...writing.values()]);
      const offsets = byEnterprise.get(enterprise) ?? [];
      // Newest first: walk the offsets backwards from the cursor (the file offset of the last entry seen).
      let end = offsets.length;
      if (cursor !== undefined) {
        const before = Number(cursor);
        let lo = 0;
        let hi = offsets.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (offsets[mid] < before) lo = mid + 1;
          else hi = mid;
        }
        end = lo;
      }
      end = Math.max(0, end - offset);
      const start = Math.max(0, end - limit);
      const items: AccessLogEntry[] = [];
      for (let i = end - 1; i >= start; i--) items.push((await journal.read(offsets[i])) as AccessLogEntry);
      return { total: offsets.length, items, ...(start > 0 ? { nextCursor: String(offsets[start]) } : {}) };
    },
    async close() {
      await journal.close();
    },
  };
}

/**
 * The access log in PostgreSQL (table `access_log`, DATABASE_URL): one row per read, inserted (and
 * committed) before the read is answered; pages by enterprise, newest first, with the row's sequence
 * number as the cursor. Shared by every service process on the database. The reads a process answers
 * at once share one INSERT and COMMIT (group commit): a read waits for at most the commit under way
 * and its own, instead of queueing for a pool connection behind every other read's.
 */
export function openPostgresAccessLog({ db }: { db: Database }): AccessLog {
  const insert = (entries: AccessLogEntry[]) =>
    db.pool.query(
      "INSERT INTO access_log (enterprise, entry) SELECT e ->> 'enterprise', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n",
      [JSON.stringify(entries)],
    );
  const inserts = new GroupCommit<AccessLogEntry, AccessLogEntry>(async (entries) => {
    try {
      await insert(entries);
      return entries;
    } catch (err) {
      if (entries.length === 1 || isDatabaseUnavailable(err)) throw err;
    }
    // The database refused the group: one entry it cannot take must fail only its own read.
    const results: (AccessLogEntry | Refused)[] = [];
    for (const entry of entries) {
      try {
        await insert([entry]);
        results.push(entry);
      } catch (err) {
        results.push(new Refused(err));
      }
    }
    return results;
  });
  return {
    append: (fields) => inserts.add(entryOf(fields)),
    async page(enterprise, { limit, cursor, offset = 0 }) {
      const before = cursor === undefined ? null : String(BigInt(cursor));
      const { total, rows } = await db.tx(
        async (client) => ({
          total: Number(
            (await client.query<{ n: string }>("SELECT count(*) AS n FROM access_log WHERE enterprise = $1", [enterprise])).rows[0].n,
          ),
          // One row more than asked tells whether an older page follows.
          rows: (
            await client.query<{ seq: string; entry: AccessLogEntry }>(
              `SELECT seq, entry FROM access_log WHERE enterprise = $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
               ORDER BY seq DESC OFFSET $3 LIMIT $4`,
              [enterprise, before, offset, limit + 1],
            )
          ).rows,
        }),
        { snapshot: true },
      );
      const items = rows.slice(0, limit);
      const more = rows.length > limit;
      return {
        total,
        items: items.map((r) => r.entry),
        ...(more && items.length > 0 ? { nextCursor: items[items.length - 1].seq } : {}),
      };
    },
    async close() {
      await inserts.settled(); // the pool belongs to the caller
    },
  };
}
