/**
 * The document store: files kept content-addressed by sha256 under `<dataDir>/documents`, written
 * atomically, with their metadata (kind, owners, links, batch proof, purge) in one durable JSON file.
 * Only hashes ever go on chain. Behind the DocumentStore interface so another backend is a new file.
 */
import { sha256Hex } from "../domain/hash";
import { mkdir, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { Low } from "lowdb";
import type { Hex } from "viem";
import type { Address } from "../domain/entities";
import { DurableJSONFile, writeFileAtomic } from "../store/atomic-file";
import type { AllowedMime } from "./sniff";
import { ApiError } from "../domain/errors";

/** Kinds of documents people upload; identity and biometric kinds are purged after the retention period. */
export const DOCUMENT_KINDS = [
  "purchase_order",
  "shipping_document",
  "delivery_note",
  "invoice",
  "agreement",
  "decision",
  "kyc_dossier",
  "kyc_id_scan",
  "biometric_face",
  "other",
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** Kinds holding personal identity or biometric data (retention-limited by default). */
export const DEFAULT_RETENTION_KINDS: readonly DocumentKind[] = ["kyc_id_scan", "biometric_face"];

export interface DocumentLink {
  type: "order" | "receivable" | "loan";
  id: string;
}

export interface DocumentUpload {
  owner: Address;
  kind: DocumentKind;
  link?: DocumentLink;
  /** Milliseconds since the epoch (the store's clock). */
  uploadedAt: number;
}

/** Where a document sits in an anchored batch: enough to prove membership against the chain. */
export interface BatchProof {
  root: Hex;
  proof: Hex[];
  count: number;
  txHash: Hex;
  blockNumber: number;
  blockHash: Hex;
  logIndex: number;
  /** Block time in seconds. */
  at: number;
  anchorer: Address;
}

export interface DocumentRecord {
  /** 0x-prefixed lowercase hex sha256 of the file bytes. */
  sha256: Hex;
  size: number;
  mime: AllowedMime;
  /** Every upload of these bytes (the same file may be uploaded by several parties). */
  uploads: DocumentUpload[];
  batch?: BatchProof;
  /** Set when the file bytes were purged (retention); the hash and the anchor stay. */
  purgedAt?: number;
}

export interface BatchRecord extends Omit<BatchProof, "proof"> {
  /** The document hashes in the batch. */
  hashes: Hex[];
}

export interface PurgeLogEntry {
  sha256: Hex;
  kinds: DocumentKind[];
  lastUploadedAt: number;
  purgedAt: number;
  retentionMs: number;
}

/** The stored file no longer hashes to its name: an incident (logged by the error middleware), answered 500. */
export class DocumentCorruptError extends ApiError {
  constructor(
    readonly file: string,
    readonly expected: Hex,
    readonly actual: Hex,
  ) {
    super(
      500,
      "document_corrupt",
      `the stored copy of document ${expected} is damaged (its bytes hash to ${actual}); it is not served until the operator restores it from a backup`,
    );
  }
}

export interface DocumentStoreData {
  documents: Record<Hex, DocumentRecord>;
  /** Hashes waiting for the next batch anchor, in upload order. */
  pending: Hex[];
  batches: Record<Hex, BatchRecord>;
  purges: PurgeLogEntry[];
}

export interface PutDocumentInput {
  bytes: Uint8Array;
  mime: AllowedMime;
  owner: Address;
  kind: DocumentKind;
  link?: DocumentLink;
}

export interface DocumentStore {
  put(input: PutDocumentInput): Promise<{ record: DocumentRecord; created: boolean }>;
  get(sha256: Hex): DocumentRecord | undefined;
  /** The file bytes, or null when purged or never stored. */
  readContent(sha256: Hex): Promise<Buffer | null>;
  list(): DocumentRecord[];
  pending(): Hex[];
  /** Stores a batch anchor and each member's proof; the members leave the pending list. */
  recordBatch(batch: BatchRecord, proofs: Record<Hex, Hex[]>): Promise<void>;
  batch(root: Hex): BatchRecord | undefined;
  /** Deletes the file bytes, keeps the record, logs the purge. False when there was nothing to purge. */
  purge(sha256: Hex, entry: Omit<PurgeLogEntry, "sha256">): Promise<boolean>;
  purges(): PurgeLogEntry[];
}

export interface FileDocumentStoreOptions {
  dataDir: string;
  now?: () => number;
}

/** Where the bytes of a document live: `<dataDir>/documents/<first two hex>/<hex>`. */
export function documentFile(root: string, sha256: Hex): string {
  const hex = sha256.slice(2);
  return path.join(root, hex.slice(0, 2), hex);
}

/** Reads a stored file and checks it still hashes to its name; null when it is missing. */
export async function readDocumentFile(root: string, sha256: Hex): Promise<Buffer | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(documentFile(root, sha256));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  // Never the wrong bytes under the right name: what is served must still hash to its name.
  const actual = sha256Hex(bytes);
  if (actual !== sha256) throw new DocumentCorruptError(documentFile(root, sha256), sha256, actual);
  return bytes;
}

export async function createFileDocumentStore(opts: FileDocumentStoreOptions): Promise<DocumentStore> {
  const now = opts.now ?? Date.now;
  const root = path.join(opts.dataDir, "documents");
  await mkdir(root, { recursive: true });
  const db: Low<DocumentStoreData> = new Low(
    new DurableJSONFile<DocumentStoreData>(
      path.join(root, "index.json"),
      "It records every stored document (owners, links, batch proofs): restore it from a backup of DATA_DIR; the files beside it are named by their sha256.",
    ),
    {
      documents: {},
      pending: [],
      batches: {},
      purges: [],
    },
  );
  await db.read();

  // lowdb writes the whole file; chain the writes so an older snapshot never lands after a newer one.
  let writing: Promise<void> = Promise.resolve();
  function persist(): Promise<void> {
    writing = writing.then(() => db.write());
    return writing;
  }

  function fileOf(sha256: Hex): string {
    const hex = sha256.slice(2);
    return path.join(root, hex.slice(0, 2), hex);
  }

  return {
    async put(input) {
      const sha256 = sha256Hex(input.bytes);
      const upload: DocumentUpload = {
        owner: input.owner.toLowerCase() as Address,
        kind: input.kind,
        ...(input.link ? { link: input.link } : {}),
        uploadedAt: now(),
      };
      const stored = db.data.documents[sha256];
      if (!stored || stored.purgedAt !== undefined) {
        await mkdir(path.dirname(fileOf(sha256)), { recursive: true });
        await writeFileAtomic(fileOf(sha256), input.bytes);
      }
      // Read again after the write: a simultaneous upload of the same bytes may have created the
      // record meanwhile, and both uploads must be kept.
      const existing = db.data.documents[sha256];
      let created = false;
      if (existing) {
        existing.uploads.push(upload);
        delete existing.purgedAt;
      } else {
        created = true;
        db.data.documents[sha256] = { sha256, size: input.bytes.length, mime: input.mime, uploads: [upload] };
        db.data.pending.push(sha256);
      }
      await persist();
      return { record: db.data.documents[sha256], created };
    },
    get(sha256) {
      return db.data.documents[sha256.toLowerCase() as Hex];
    },
    async readContent(sha256) {
      const record = db.data.documents[sha256];
      if (!record || record.purgedAt !== undefined) return null;
      let bytes: Buffer;
      try {
        bytes = await readFile(fileOf(sha256));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
      // Never the wrong bytes under the right name: what is served must still hash to its name.
      const actual = sha256Hex(bytes);
      if (actual !== sha256) throw new DocumentCorruptError(fileOf(sha256), sha256, actual);
      return bytes;
    },
    list() {
      return Object.values(db.data.documents);
    },
    pending() {
      return [...db.data.pending];
    },
    async recordBatch(batch, proofs) {
      db.data.batches[batch.root] = batch;
      const members = new Set(batch.hashes);
      for (const hash of batch.hashes) {
        const record = db.data.documents[hash];
        if (record) {
          const { hashes: _hashes, ...anchor } = batch;
          record.batch = { ...anchor, proof: proofs[hash] };
        }
      }
      db.data.pending = db.data.pending.filter((h) => !members.has(h));
      await persist();
    },
    batch(rootHash) {
      return db.data.batches[rootHash.toLowerCase() as Hex];
    },
    async purge(sha256, entry) {
      const record = db.data.documents[sha256];
      if (!record || record.purgedAt !== undefined) return false;
      await unlink(fileOf(sha256)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
      record.purgedAt = entry.purgedAt;
      db.data.purges.push({ sha256, ...entry });
      await persist();
      return true;
    },
    purges() {
      return [...db.data.purges];
    },
  };
}
