/**
 * One call that wires the document store, the batch notary and the retention job, for the composition
 * root: `const docs = await openDocumentService(...)`, mount its routes with `documentAndEvidenceRoutes(docs)`
 * (api/routes/document-routes.ts), `await docs.start()` after the indexer runs, and `await docs.stop()`
 * on shutdown.
 */
import type { PublicClient } from "viem";
import type { Logger } from "pino";
import type { Deployment } from "../chain/contracts";
import type { TxSender } from "../chain/sender";
import { createBatcher, type Batcher } from "./batcher";
import { createRetentionJob, type RetentionJob } from "./retention";
import type { Database } from "../store/postgres/db";
import { createPostgresDocumentStore } from "./postgres-store";
import { createFileDocumentStore, type DocumentKind, type DocumentStore } from "./store";
import type { NameOpening } from "../domain/name-commitment";
import { readParticipantNames } from "../participants/directory";

export interface DocumentServiceOptions {
  dataDir: string;
  /** PostgreSQL (DATABASE_URL) for the documents' index and bytes instead of DATA_DIR/documents. */
  db?: Database;
  publicClient: PublicClient;
  deployment: Deployment;
  /** The service's transaction sender (its account an admitted participant) that anchors batches; none: uploads stay pending. */
  sender?: TxSender;
  logger?: Logger;
  /** Largest upload in bytes (default 10 MiB). */
  maxBytes?: number;
  /** Days before identity and biometric files are purged (default 90). */
  retentionDays?: number;
  retentionKinds?: readonly DocumentKind[];
  /** A batch is anchored when this many documents wait (default 256)... */
  batchMaxCount?: number;
  /** ...or this often when any wait (default 60 s). */
  batchMaxDelayMs?: number;
  /** Milliseconds since the epoch (tests inject a clock). */
  now?: () => number;
  /**
   * Several processes on one database: whether this process runs the background jobs now (it holds
   * the index writer's lock). Only then does the batcher anchor what is pending, whichever process took
   * the upload. Unset: one process, always.
   */
  runsJobs?: () => boolean;
}

export interface DocumentService {
  store: DocumentStore;
  batcher?: Batcher;
  retention: RetentionJob;
  /** What the documents and evidence routes read the chain with, and the largest upload they take. */
  publicClient: PublicClient;
  deployment: Deployment;
  maxBytes?: number;
  /** Display names the operator published with their openings (address lowercase -> opening), for evidence bundles. */
  participantNames(): Promise<Record<string, NameOpening>>;
  /** PostgreSQL: another process changed `what` (see postgres-store.ts), or everything (`resync`). */
  changedElsewhere?(what: string): Promise<void>;
  resyncFromStore?(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function openDocumentService(opts: DocumentServiceOptions): Promise<DocumentService> {
  const shared = opts.db ? await createPostgresDocumentStore({ db: opts.db, dataDir: opts.dataDir, now: opts.now }) : undefined;
  const store = shared ?? (await createFileDocumentStore({ dataDir: opts.dataDir, now: opts.now }));
  const batcher = opts.sender
    ? createBatcher({
        store,
        sender: opts.sender,
        notary: opts.deployment.contracts.EvidenceNotary,
        maxCount: opts.batchMaxCount,
        maxDelayMs: opts.batchMaxDelayMs,
        logger: opts.logger?.child({ module: "notary-batcher" }),
        active: opts.runsJobs,
      })
    : undefined;
  const retention = createRetentionJob({
    store,
    now: opts.now,
    retentionDays: opts.retentionDays,
    kinds: opts.retentionKinds,
    logger: opts.logger?.child({ module: "document-retention" }),
  });
  return {
    store,
    batcher,
    retention,
    publicClient: opts.publicClient,
    deployment: opts.deployment,
    maxBytes: opts.maxBytes,
    participantNames: () => readParticipantNames(opts.dataDir),
    ...(shared
      ? {
          async changedElsewhere(what: string) {
            await shared.changed(what);
            batcher?.notify();
          },
          async resyncFromStore() {
            await shared.reload();
            batcher?.notify();
          },
        }
      : {}),
    async start() {
      await retention.start();
      batcher?.start();
    },
    async stop() {
      await retention.stop();
      await batcher?.stop();
    },
  };
}
