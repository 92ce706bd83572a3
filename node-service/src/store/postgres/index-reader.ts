/**
 * Keyed reads of the chain index as committed in PostgreSQL (the rows store/postgres/index-store.ts
 * writes), for a process that does not hold the index in memory (SERVICE_ROLE=reader). The reads that
 * compute an answer from several records run in a read-only transaction on one snapshot, so they see the
 * index of one checkpoint, never half of a commit under way; evidence lookups read each key by its own
 * statement (`direct`), since they check every record against the chain anyway.
 */
import type pg from "pg";
import type { Address, ConsentEntity, ParticipantEntity } from "../../domain/entities";
import type { ListCollections } from "../../domain/mutations";
import type { IndexReader } from "../index-reader";
import { decodeRecord } from "../state-codec";
import { STORE_VERSION, type Checkpoint } from "../index-store";
import { inTurn, type Database } from "./db";

/** What index_meta says of the committed index (checkpoint null: nothing indexed yet, or another version's index). */
export interface CommittedMeta {
  checkpoint: Checkpoint | null;
  eventCount: number;
  /** The number of the commit that wrote it (index_changes counts commits by it; 0: none). */
  commitSeq: number;
}

interface MetaRow {
  version: number;
  checkpoint: Checkpoint | null;
  event_count: string;
  commit_seq: string;
}

function metaOf(rows: MetaRow[]): CommittedMeta {
  const m = rows[0];
  // An index of another version is being rebuilt by the indexing process: as good as none until then.
  if (!m || m.version !== STORE_VERSION) return { checkpoint: null, eventCount: 0, commitSeq: 0 };
  return { checkpoint: m.checkpoint, eventCount: Number(m.event_count), commitSeq: Number(m.commit_seq) };
}

const META_SQL = "SELECT version, checkpoint, event_count, commit_seq FROM index_meta WHERE id = 1";
/** Keys read by one statement at most. */
const KEYS_PER_STATEMENT = 5_000;

/**
 * `read`'s answers for `keys`, KEYS_PER_STATEMENT at a time, one statement after another: a walk over a
 * large slice asks for tens of thousands of keys at once, and one answer holding them all (rows, then
 * decoded records) would be held at once.
 */
async function inChunks<T>(keys: readonly string[], read: (chunk: readonly string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let from = 0; from < keys.length; from += KEYS_PER_STATEMENT) out.push(...(await read(keys.slice(from, from + KEYS_PER_STATEMENT))));
  return out;
}

/** How the keyed reads run: on one transaction's client (one snapshot), or each as a statement of its own. */
type Query = <R extends pg.QueryResultRow>(text: string, values: unknown[]) => Promise<pg.QueryResult<R>>;

/**
 * What a debtor's tier reads of the index, counted in the database: its purchase orders, and its original
 * invoices that matured, and those of them not paid in full at maturity, in the window (since, end].
 */
export interface DebtorCounts {
  /** Orders it placed as buyer created in the window and not cancelled by `end`. */
  purchases: number;
  /** Its original invoices (not split children) acknowledged and not cancelled by `end`, maturing in the window. */
  matured: number;
  /** Of those, the ones whose payments by maturity, on the invoice and all its split descendants, fall short of its face value. */
  late: number;
}

/** Keyed reads of the committed index, and the counts a debtor's tier reads. */
export interface CommittedReader extends IndexReader {
  /**
   * The debtor's counts at the instant `end` over the window (since, end] (since null: all time), the same
   * records and rules as metrics/compute.ts's purchaseCount and debtorOverdueRate (metrics/debtor-tier.ts
   * turns them into those values; test/service/debtor-tier.test.ts checks them against it). Bounded: it reads
   * the debtor's orders and invoices in the window through their indexes (migration 007), one row each
   * (an invoice carries what its split tree paid by maturity), so the service holds three numbers,
   * whatever the debtor's size.
   */
  debtorCounts(debtor: Address, end: number, since: number | null): Promise<DebtorCounts>;
  /** Every participant record, by address (one statement; participants grow with the members, not the events). */
  participants(): Promise<Record<Address, ParticipantEntity>>;
  /**
   * The keys ("coll/key") the commits after commit `since` up to `upTo` changed (index_changes, migration
   * 008), or null when they are not all known: a whole rewrite among them, or commits no longer kept.
   */
  changedSince(since: number, upTo: number): Promise<Set<string> | null>;
}

// $1 debtor, $2 end, $3 since (exclusive; null: no lower bound). The conditions mirror metrics/records.ts
// (enterpriseRecords, invoiceOf) and metrics/compute.ts (purchaseCount, matured): a field absent from the
// JSON reads as SQL null, so "cancelled by end" is coalesce(cancelledAt <= end, false). What an invoice's
// split tree paid by its maturity is the invoice's own paidByMaturity (kept by the reducer; absent: none),
// so an invoice is one row whatever its tree: every payment it counts was made by its maturity, which is
// at or before `end`.
const DEBTOR_COUNTS_SQL = `
WITH purchases AS (
  SELECT count(*) AS n FROM index_records
  WHERE coll = 'orders' AND value ->> 'buyer' = $1
    AND (value ->> 'createdAt')::bigint <= $2 AND ($3::bigint IS NULL OR (value ->> 'createdAt')::bigint > $3)
    AND NOT coalesce((value ->> 'cancelledAt')::bigint <= $2, false)
),
invoices AS (
  SELECT (value ->> 'faceValue')::numeric AS face, coalesce((value ->> 'paidByMaturity')::numeric, 0) AS paid FROM index_records
  WHERE coll = 'receivables' AND (value ->> 'parentId') IS NULL AND value ->> 'debtor' = $1
    AND (value ->> 'maturity')::bigint <= $2 AND ($3::bigint IS NULL OR (value ->> 'maturity')::bigint > $3)
    AND (value ->> 'issuedAt')::bigint <= $2
    AND (value ->> 'acknowledgedAt')::bigint <= $2
    AND NOT coalesce((value ->> 'cancelledAt')::bigint <= $2, false)
)
SELECT (SELECT n FROM purchases) AS purchases, count(*) AS matured, count(*) FILTER (WHERE paid < face) AS late FROM invoices`;

/** The CommittedReader over `query`. */
function readerOn(query: Query): CommittedReader {
  return {
    async debtorCounts(debtor, end, since) {
      const { rows } = await query<{ purchases: string; matured: string; late: string }>(DEBTOR_COUNTS_SQL, [
        debtor.toLowerCase(),
        end,
        since,
      ]);
      const [c] = rows;
      return { purchases: Number(c.purchases), matured: Number(c.matured), late: Number(c.late) };
    },
    async changedSince(since, upTo) {
      if (upTo === since) return new Set();
      if (upTo < since) return null;
      const { rows } = await query<{ seq: string; whole: boolean; changed: string[] }>(
        "SELECT seq, whole, changed FROM index_changes WHERE seq > $1 AND seq <= $2 ORDER BY seq",
        [since, upTo],
      );
      if (rows.length !== upTo - since || rows.some((r) => r.whole)) return null;
      const out = new Set<string>();
      for (const r of rows) for (const k of r.changed) out.add(k);
      return out;
    },
    async participants() {
      const { rows } = await query<{ key: Address; value: ParticipantEntity }>(
        "SELECT key, value FROM index_records WHERE coll = 'participants'",
        [],
      );
      return Object.fromEntries(rows.map((r) => [r.key, decodeRecord("participants", r.value)]));
    },
    async records(coll, keys) {
      return inChunks(keys, async (chunk) => {
        const { rows } = await query<{ key: string; value: unknown }>(
          "SELECT key, value FROM index_records WHERE coll = $1 AND key = ANY($2::text[])",
          [coll, chunk],
        );
        const byKey = new Map(rows.map((r) => [r.key, r.value]));
        return chunk.map((k) => (byKey.has(k) ? decodeRecord(coll, byKey.get(k)) : undefined));
      });
    },
    async lists(coll, keys) {
      return inChunks(keys, async (chunk) => {
        const { rows } = await query<{ key: string; items: ListCollections[typeof coll][] }>(
          "SELECT key, items FROM index_list_segments WHERE coll = $1 AND key = ANY($2::text[]) ORDER BY key, seq",
          [coll, chunk],
        );
        const byKey = new Map<string, ListCollections[typeof coll][]>();
        for (const r of rows) {
          const items = byKey.get(r.key);
          if (items) for (const item of r.items) items.push(item);
          else byKey.set(r.key, r.items);
        }
        return chunk.map((k) => byKey.get(k) ?? []);
      });
    },
  };
}

export interface PostgresIndexReader {
  /** The committed checkpoint and event count (one statement, no transaction of its own). */
  meta(): Promise<CommittedMeta>;
  /** `read` with keyed reads on one snapshot (given what index_meta says there), and the checkpoint of that snapshot. */
  inSnapshot<T>(read: (reader: CommittedReader, meta: CommittedMeta) => Promise<T>): Promise<{ meta: CommittedMeta; value: T }>;
  /**
   * Keyed reads each in a statement of its own, with no transaction held open between them: for a
   * caller that interleaves them with chain reads (evidence lookups, which compare what the index says
   * with the chain and report any difference), where a snapshot would hold a connection for seconds.
   */
  direct: CommittedReader;
  /** The consent records where `party` is the borrower or the lender (one statement: one snapshot). */
  consentsOf(party: Address, role: "borrower" | "lender"): Promise<ConsentEntity[]>;
  /** Every consent record and the checkpoint they were read at, on one snapshot (one row per borrower and lender). */
  consents(): Promise<{ meta: CommittedMeta; consents: Record<string, ConsentEntity> }>;
}

export function createPostgresIndexReader(db: Database): PostgresIndexReader {
  return {
    direct: readerOn((text, values) => db.statement(text, values)),
    async meta() {
      return metaOf((await db.statement<MetaRow>(META_SQL, [])).rows);
    },
    inSnapshot(read) {
      return db.tx(
        async (client) => {
          const meta = metaOf((await client.query<MetaRow>(META_SQL)).rows);
          // One statement at a time on the snapshot's one connection: a reader may ask several at once (Promise.all).
          return { meta, value: await read(readerOn(inTurn(client)), meta) };
        },
        { snapshot: true },
      );
    },
    async consentsOf(party, role) {
      // One row per borrower and lender: the scan grows with the network's pairs, not its events.
      const { rows } = await db.statement<{ value: ConsentEntity }>(
        "SELECT value FROM index_records WHERE coll = 'consents' AND value ->> $2 = $1",
        [party.toLowerCase(), role],
      );
      return rows.map((r) => decodeRecord("consents", r.value));
    },
    consents() {
      return db.tx(
        async (client) => {
          const meta = metaOf((await client.query<MetaRow>(META_SQL)).rows);
          const { rows } = await client.query<{ key: string; value: ConsentEntity }>(
            "SELECT key, value FROM index_records WHERE coll = 'consents'",
          );
          const consents: Record<string, ConsentEntity> = {};
          for (const r of rows) consents[r.key] = decodeRecord("consents", r.value);
          return { meta, consents };
        },
        { snapshot: true },
      );
    },
  };
}
