/**
 * The documents' index in PostgreSQL (DATABASE_URL): the DocumentStore of documents/store.ts with each
 * document's record, the pending list, the batches and the purge log as rows (tables documents,
 * document_pending, document_batches, document_purges) and each document's bytes (document_bytes),
 * written in the upload's transaction, so every committed record has its bytes and every process
 * serves every upload; a purge deletes both in one transaction. Each change is one transaction,
 * resolved after COMMIT; the in-memory copy the index reads are served from is updated only then. A
 * change reads the committed record under an advisory lock on the document and changes that version,
 * never this process's copy, so an upload, a batch or a purge made at once on two processes loses
 * nothing; a purge decided on a copy that missed an upload is not made.
 * Bytes are read from the database at each download and checked against their hash.
 *
 * Several processes: each change also sends `pg_notify('records', 'documents:<what>')` in its
 * transaction (`<sha256>` for an upload, `purge:<sha256>`, `batch:<root>`); the process's LISTEN
 * connection (store/postgres/listener.ts) calls `changed(what)`, which reads that part again, and
 * `reload()` after a reconnect.
 *
 * An earlier version kept the bytes under each process's `<dataDir>/documents`: at open, the bytes of
 * every live document the database lacks are copied in from this process's directory when it has
 * them (checked against their hash); the files are then left alone (the operator removes them).
 */
import path from "node:path";
import type { Hex } from "viem";
import type { Address } from "../domain/entities";
import { sha256Hex } from "../domain/hash";
import {
  DocumentCorruptError,
  readDocumentFile,
  type BatchRecord,
  type DocumentRecord,
  type DocumentStore,
  type DocumentUpload,
  type PurgeLogEntry,
} from "./store";
import type { PoolClient } from "pg";
import { lockKeyOf, type Database } from "../store/postgres/db";
import { RECORDS_CHANNEL } from "../store/postgres/listener";

export interface PostgresDocumentStore extends DocumentStore {
  /** Another process changed `what` (`<sha256>`, `purge:<sha256>` or `batch:<root>`): read it again. */
  changed(what: string): Promise<void>;
  /** Reads every table again (notifications may have been missed). */
  reload(): Promise<void>;
}

const notify = (client: { query(text: string, values: unknown[]): Promise<unknown> }, what: string) =>
  client.query("SELECT pg_notify($1, $2)", [RECORDS_CHANNEL, `documents:${what}`]);

export async function createPostgresDocumentStore(opts: {
  db: Database;
  dataDir: string;
  now?: () => number;
}): Promise<PostgresDocumentStore> {
  const { db } = opts;
  const now = opts.now ?? Date.now;
  const legacyRoot = path.join(opts.dataDir, "documents");

  const documents = new Map<Hex, DocumentRecord>();
  const batches = new Map<Hex, BatchRecord>();
  let pending: Hex[] = [];
  let purges: PurgeLogEntry[] = [];
  const loadPending = async () =>
    (pending = (await db.pool.query<{ sha256: Hex }>("SELECT sha256 FROM document_pending ORDER BY seq")).rows.map((r) => r.sha256));
  const loadPurges = async () =>
    (purges = (await db.pool.query<{ entry: PurgeLogEntry }>("SELECT entry FROM document_purges ORDER BY seq")).rows.map((r) => r.entry));
  const loadDocuments = async (hashes?: Hex[]) => {
    const rows = hashes
      ? await db.pool.query<{ record: DocumentRecord }>("SELECT record FROM documents WHERE sha256 = ANY($1::text[])", [hashes])
      : await db.pool.query<{ record: DocumentRecord }>("SELECT record FROM documents");
    for (const r of rows.rows) documents.set(r.record.sha256, r.record);
  };
  const loadBatches = async (root?: Hex) => {
    const rows = root
      ? await db.pool.query<{ record: BatchRecord }>("SELECT record FROM document_batches WHERE root = $1", [root])
      : await db.pool.query<{ record: BatchRecord }>("SELECT record FROM document_batches");
    for (const r of rows.rows) batches.set(r.record.root, r.record);
    return rows.rows.map((r) => r.record);
  };
  await loadDocuments();
  await loadBatches();
  await loadPending();
  await loadPurges();
  await copyInLegacyBytes(db, legacyRoot);

  // One change at a time, so the in-memory copy follows the commits in order.
  let queue: Promise<unknown> = Promise.resolve();
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }
  /** The committed record of `sha256`, locked until the transaction ends (another process's change waits). */
  const lockedRecord = async (client: PoolClient, sha256: Hex): Promise<DocumentRecord | undefined> => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [lockKeyOf("documents", sha256)]);
    const rows = await client.query<{ record: DocumentRecord }>("SELECT record FROM documents WHERE sha256 = $1", [sha256]);
    return rows.rows[0]?.record;
  };
  const UPSERT = "INSERT INTO documents (sha256, record) VALUES ($1, $2) ON CONFLICT (sha256) DO UPDATE SET record = EXCLUDED.record";

  return {
    async put(input) {
      const sha256 = sha256Hex(input.bytes);
      const upload: DocumentUpload = {
        owner: input.owner.toLowerCase() as Address,
        kind: input.kind,
        ...(input.link ? { link: input.link } : {}),
        uploadedAt: now(),
      };
      return serial(async () => {
        const { record, created } = await db.tx(async (client) => {
          const existing = await lockedRecord(client, sha256);
          let record: DocumentRecord;
          if (existing) {
            record = existing;
            record.uploads.push(upload);
            delete record.purgedAt;
          } else {
            record = { sha256, size: input.bytes.length, mime: input.mime, uploads: [upload] };
          }
          const created = !existing;
          await client.query(UPSERT, [sha256, JSON.stringify(record)]);
          // Every upload stores its bytes unless they are there (a live document's may be missing: an
          // earlier version's file that no process copied in).
          await client.query("INSERT INTO document_bytes (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING", [
            sha256,
            Buffer.from(input.bytes),
          ]);
          if (created) await client.query("INSERT INTO document_pending (sha256) VALUES ($1)", [sha256]);
          await notify(client, sha256);
          return { record, created };
        });
        documents.set(sha256, record);
        if (created) pending.push(sha256);
        return { record, created };
      });
    },
    get(sha256) {
      return documents.get(sha256.toLowerCase() as Hex);
    },
    async readContent(sha256) {
      const record = documents.get(sha256);
      if (!record || record.purgedAt !== undefined) return null;
      const rows = await db.pool.query<{ bytes: Buffer }>("SELECT bytes FROM document_bytes WHERE sha256 = $1", [sha256]);
      const bytes = rows.rows[0]?.bytes;
      if (!bytes) return null;
      const actual = sha256Hex(bytes);
      if (actual !== sha256) throw new DocumentCorruptError(`document_bytes ${sha256}`, sha256, actual);
      return bytes;
    },
    list() {
      return [...documents.values()];
    },
    pending() {
      return [...pending];
    },
    recordBatch(batch, proofs) {
      return serial(async () => {
        const { hashes: _hashes, ...anchor } = batch;
        const updated = await db.tx(async (client) => {
          const updated: DocumentRecord[] = [];
          // In one order, so two transactions locking several documents never wait on each other in a cycle.
          for (const hash of [...batch.hashes].sort()) {
            const record = await lockedRecord(client, hash);
            if (!record) continue;
            updated.push({ ...record, batch: { ...anchor, proof: proofs[hash] } });
          }
          await client.query(
            "INSERT INTO document_batches (root, record) VALUES ($1, $2) ON CONFLICT (root) DO UPDATE SET record = EXCLUDED.record",
            [batch.root, JSON.stringify(batch)],
          );
          for (const r of updated) await client.query(UPSERT, [r.sha256, JSON.stringify(r)]);
          await client.query("DELETE FROM document_pending WHERE sha256 = ANY($1::text[])", [batch.hashes]);
          await notify(client, `batch:${batch.root}`);
          return updated;
        });
        batches.set(batch.root, batch);
        for (const r of updated) documents.set(r.sha256, r);
        const members = new Set(batch.hashes);
        pending = pending.filter((h) => !members.has(h));
      });
    },
    batch(rootHash) {
      return batches.get(rootHash.toLowerCase() as Hex);
    },
    purge(sha256, entry) {
      return serial(async () => {
        const seen = documents.get(sha256);
        if (!seen || seen.purgedAt !== undefined) return false;
        const logged: PurgeLogEntry = { sha256, ...entry };
        const purged = await db.tx(async (client) => {
          const current = await lockedRecord(client, sha256);
          // Decided on this process's copy: an upload since (on another process) renews the document.
          if (!current || current.purgedAt !== undefined || current.uploads.length !== seen.uploads.length) return null;
          const purged: DocumentRecord = { ...current, purgedAt: entry.purgedAt };
          await client.query(UPSERT, [sha256, JSON.stringify(purged)]);
          await client.query("DELETE FROM document_bytes WHERE sha256 = $1", [sha256]);
          await client.query("INSERT INTO document_purges (entry) VALUES ($1)", [JSON.stringify(logged)]);
          await notify(client, `purge:${sha256}`);
          return purged;
        });
        if (!purged) {
          await loadDocuments([sha256]);
          return false;
        }
        documents.set(sha256, purged);
        purges.push(logged);
        return true;
      });
    },
    purges() {
      return [...purges];
    },
    changed(what) {
      // In the same queue as this process's own changes, so the copy follows the commits in order.
      return serial(async () => {
        if (what.startsWith("batch:")) {
          for (const b of await loadBatches(what.slice(6) as Hex)) await loadDocuments(b.hashes);
        } else if (what.startsWith("purge:")) {
          await loadDocuments([what.slice(6) as Hex]);
          await loadPurges();
        } else {
          await loadDocuments([what as Hex]);
        }
        await loadPending();
      });
    },
    reload() {
      return serial(async () => {
        await loadDocuments();
        await loadBatches();
        await loadPending();
        await loadPurges();
      });
    },
  };
}

/**
 * Copies into document_bytes the bytes of every live document the database lacks, from the files an
 * earlier version wrote under this process's `<dataDir>/documents` (those it has; a file whose bytes do
 * not hash to its name is not copied: readDocumentFile throws DocumentCorruptError naming it).
 */
async function copyInLegacyBytes(db: Database, root: string): Promise<void> {
  const missing = await db.pool.query<{ sha256: Hex }>(
    `SELECT d.sha256 FROM documents d
      WHERE NOT (d.record ? 'purgedAt') AND NOT EXISTS (SELECT 1 FROM document_bytes b WHERE b.sha256 = d.sha256)`,
  );
  for (const { sha256 } of missing.rows) {
    const bytes = await readDocumentFile(root, sha256);
    if (bytes)
      await db.pool.query("INSERT INTO document_bytes (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING", [sha256, bytes]);
  }
}
