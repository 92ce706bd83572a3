/**
 * The chain index in PostgreSQL (DATABASE_URL): the IndexStore of store/index-store.ts with one row per
 * keyed record (index_records) and per list item (index_lists), the checkpoint and chain identity in
 * index_meta, the recent block hashes in index_recent_blocks and each reorg-window block's undo
 * information in index_undo (migrations/001_init.sql).
 *
 * A save is one transaction holding everything the indexer applied since the previous save (one block
 * range or several): the records and lists named by the indexer's ChangeSet (a rolled-back block's
 * records are in it too, restored or deleted), the undo rows and recent hashes that entered or left the
 * window, and the checkpoint. So the checkpoint never describes other rows than the ones committed
 * with it, and a save costs what changed, not the size of the index. It resolves after COMMIT.
 */
import type { Hex } from "viem";
import { emptyIndexState } from "../../domain/entities";
import type { BlockUndo, ListCollection, RecordCollection } from "../../domain/mutations";
import { decodeRecord, encodeRecord } from "../state-codec";
import { STORE_VERSION, type IndexStore, type StoredIndex, type WriteStats } from "../index-store";
import type { Database } from "./db";
import type pg from "pg";

const RECORD_COLLECTIONS: readonly RecordCollection[] = [
  "participants",
  "orders",
  "receivables",
  "loans",
  "consents",
  "anchors",
  "loanByDigest",
  "transfers",
];
const LIST_COLLECTIONS: readonly ListCollection[] = [
  "ordersByParty",
  "receivablesByParty",
  "loansByParty",
  "transfersByParty",
  "participantsByAttribute",
  "ordersByDocument",
  "eventsByTx",
];

/** Rows per statement (each statement carries its rows as one jsonb parameter). */
const CHUNK = 5000;

type Row = Record<string, unknown>;

function encodeUndo(b: BlockUndo): unknown {
  return {
    ...b,
    puts: b.puts.map((u) => (u.prev === undefined ? { coll: u.coll, key: u.key } : { ...u, prev: encodeRecord(u.coll, u.prev) })),
  };
}

function decodeUndo(b: BlockUndo): BlockUndo {
  return { ...b, puts: b.puts.map((u) => (u.prev === undefined ? u : { ...u, prev: decodeRecord(u.coll, u.prev) })) };
}

export async function createPostgresIndexStore(db: Database): Promise<IndexStore> {
  // What this process last committed (or loaded), to write only the differences next time.
  let savedUndo = new Map<number, BlockUndo>();
  let savedRecent = new Map<number, Hex>();

  async function inChunks(client: pg.PoolClient, rows: Row[], sql: string, bytes: { n: number }): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const json = JSON.stringify(rows.slice(i, i + CHUNK));
      bytes.n += json.length;
      await client.query(sql, [json]);
    }
  }

  const UPSERT_RECORDS = `INSERT INTO index_records (coll, key, value)
    SELECT r.coll, r.key, r.value FROM jsonb_to_recordset($1::jsonb) AS r(coll text, key text, value jsonb)
    ON CONFLICT (coll, key) DO UPDATE SET value = EXCLUDED.value`;
  const DELETE_RECORDS = `DELETE FROM index_records t USING jsonb_to_recordset($1::jsonb) AS r(coll text, key text)
    WHERE t.coll = r.coll AND t.key = r.key`;
  const INSERT_ITEMS = `INSERT INTO index_lists (coll, key, seq, value)
    SELECT r.coll, r.key, r.seq, r.value FROM jsonb_to_recordset($1::jsonb) AS r(coll text, key text, seq integer, value jsonb)`;
  const CUT_LISTS = `DELETE FROM index_lists t USING jsonb_to_recordset($1::jsonb) AS r(coll text, key text, seq integer)
    WHERE t.coll = r.coll AND t.key = r.key AND t.seq >= r.seq`;

  return {
    async load() {
      const client = await db.pool.connect();
      try {
        // One snapshot for every read, so a concurrent commit (another process) is seen whole or not at all.
        await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        const meta = await client.query<{
          version: number;
          identity: StoredIndex["identity"];
          checkpoint: StoredIndex["checkpoint"];
          undo_floor: string;
          event_count: string;
        }>("SELECT version, identity, checkpoint, undo_floor, event_count FROM index_meta WHERE id = 1");
        if (meta.rows.length === 0) {
          await client.query("COMMIT");
          return null;
        }
        const m = meta.rows[0];
        if (m.version !== STORE_VERSION) throw new Error(`index store version ${m.version}, expected ${STORE_VERSION}`);
        const state = emptyIndexState();
        const records = state as unknown as Record<string, Record<string, unknown>>;
        for (const coll of RECORD_COLLECTIONS) {
          const rows = await client.query<{ key: string; value: unknown }>("SELECT key, value FROM index_records WHERE coll = $1", [coll]);
          const target = records[coll];
          for (const r of rows.rows) target[r.key] = decodeRecord(coll, r.value);
        }
        const lists = state as unknown as Record<string, Record<string, unknown[]>>;
        for (const coll of LIST_COLLECTIONS) {
          const rows = await client.query<{ key: string; value: unknown }>(
            "SELECT key, value FROM index_lists WHERE coll = $1 ORDER BY key, seq",
            [coll],
          );
          const target = lists[coll];
          for (const r of rows.rows) (target[r.key] ??= []).push(r.value);
        }
        state.eventCount = Number(m.event_count);
        const recent = await client.query<{ block_number: string; block_hash: Hex }>(
          "SELECT block_number, block_hash FROM index_recent_blocks ORDER BY block_number",
        );
        const undoRows = await client.query<{ undo: BlockUndo }>("SELECT undo FROM index_undo ORDER BY block_number");
        await client.query("COMMIT");
        const undo = undoRows.rows.map((r) => decodeUndo(r.undo));
        savedUndo = new Map(undo.map((u) => [u.blockNumber, u]));
        savedRecent = new Map(recent.rows.map((r) => [Number(r.block_number), r.block_hash]));
        return {
          version: m.version,
          identity: m.identity,
          checkpoint: m.checkpoint,
          recentBlocks: recent.rows.map((r) => ({ blockNumber: Number(r.block_number), blockHash: r.block_hash })),
          undoFloor: Number(m.undo_floor),
          undo,
          state,
        };
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    async save(doc, changes): Promise<WriteStats> {
      const t0 = performance.now();
      const bytes = { n: 0 };
      const full = !changes;
      const state = doc.state as unknown as Record<string, Record<string, unknown>>;
      const lists = doc.state as unknown as Record<string, Record<string, unknown[]>>;
      await db.tx(async (client) => {
        if (full) {
          await client.query("TRUNCATE index_records, index_lists, index_recent_blocks, index_undo");
          const rows: Row[] = [];
          for (const coll of RECORD_COLLECTIONS)
            for (const [key, value] of Object.entries(state[coll])) rows.push({ coll, key, value: encodeRecord(coll, value as never) });
          await inChunks(client, rows, UPSERT_RECORDS, bytes);
          const items: Row[] = [];
          for (const coll of LIST_COLLECTIONS)
            for (const [key, list] of Object.entries(lists[coll])) list.forEach((value, seq) => items.push({ coll, key, seq, value }));
          await inChunks(client, items, INSERT_ITEMS, bytes);
        } else {
          const upserts: Row[] = [];
          const deletes: Row[] = [];
          for (const { coll, key } of changes.records.values()) {
            const value = state[coll][key];
            if (value === undefined) deletes.push({ coll, key });
            else upserts.push({ coll, key, value: encodeRecord(coll, value as never) });
          }
          await inChunks(client, deletes, DELETE_RECORDS, bytes);
          await inChunks(client, upserts, UPSERT_RECORDS, bytes);
          const cuts: Row[] = [];
          const items: Row[] = [];
          for (const { coll, key, from } of changes.lists.values()) {
            cuts.push({ coll, key, seq: from });
            const list = lists[coll][key] ?? [];
            for (let seq = from; seq < list.length; seq++) items.push({ coll, key, seq, value: list[seq] });
          }
          await inChunks(client, cuts, CUT_LISTS, bytes);
          await inChunks(client, items, INSERT_ITEMS, bytes);
        }

        // Undo rows and recent hashes: write the ones that are new or changed, delete the ones that left.
        const undoNow = new Map(doc.undo.map((u) => [u.blockNumber, u]));
        const base = full ? new Map<number, BlockUndo>() : savedUndo;
        const dropUndo = [...base.keys()].filter((n) => undoNow.get(n) !== base.get(n));
        const addUndo = doc.undo.filter((u) => base.get(u.blockNumber) !== u);
        if (dropUndo.length) await client.query("DELETE FROM index_undo WHERE block_number = ANY($1::bigint[])", [dropUndo]);
        await inChunks(
          client,
          addUndo.map((u) => ({ block_number: u.blockNumber, undo: encodeUndo(u) })),
          `INSERT INTO index_undo (block_number, undo) SELECT r.block_number, r.undo FROM jsonb_to_recordset($1::jsonb) AS r(block_number bigint, undo jsonb)`,
          bytes,
        );
        const recentNow = new Map(doc.recentBlocks.map((b) => [b.blockNumber, b.blockHash]));
        const baseRecent = full ? new Map<number, Hex>() : savedRecent;
        const dropRecent = [...baseRecent.keys()].filter((n) => recentNow.get(n) !== baseRecent.get(n));
        const addRecent = doc.recentBlocks.filter((b) => baseRecent.get(b.blockNumber) !== b.blockHash);
        if (dropRecent.length) await client.query("DELETE FROM index_recent_blocks WHERE block_number = ANY($1::bigint[])", [dropRecent]);
        await inChunks(
          client,
          addRecent.map((b) => ({ block_number: b.blockNumber, block_hash: b.blockHash })),
          `INSERT INTO index_recent_blocks (block_number, block_hash) SELECT r.block_number, r.block_hash FROM jsonb_to_recordset($1::jsonb) AS r(block_number bigint, block_hash text)`,
          bytes,
        );

        await client.query(
          `INSERT INTO index_meta (id, version, identity, checkpoint, undo_floor, event_count) VALUES (1, $1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, identity = EXCLUDED.identity, checkpoint = EXCLUDED.checkpoint,
             undo_floor = EXCLUDED.undo_floor, event_count = EXCLUDED.event_count`,
          [
            doc.version,
            JSON.stringify(doc.identity),
            doc.checkpoint ? JSON.stringify(doc.checkpoint) : null,
            doc.undoFloor,
            doc.state.eventCount,
          ],
        );
      });
      savedUndo = new Map(doc.undo.map((u) => [u.blockNumber, u]));
      savedRecent = new Map(doc.recentBlocks.map((b) => [b.blockNumber, b.blockHash]));
      return { bytes: bytes.n, ms: performance.now() - t0 };
    },
  };
}
