/**
 * One call that wires the document store, the batch notary, the retention job and the documents and
 * evidence routes, for the composition root: `const docs = await openDocumentService(...)`, pass
 * `docs.routes` in startService's `modules`, `await docs.start()` after the indexer runs, and
 * `await docs.stop()` on shutdown.
 */
import path from "node:path";
import type { Account, Chain, PublicClient, Transport, WalletClient } from "viem";
import type { Logger } from "pino";
import type { Deployment } from "../chain/contracts";
import type { RouteModule } from "../api/app";
import { z } from "zod";
import type { RouteSpec } from "../api/route";
import { createDocumentsRouter } from "../api/routes/documents";
import { createEvidenceRouter } from "../api/routes/evidence";
import { createBatcher, type Batcher } from "./batcher";
import { createRetentionJob, type RetentionJob } from "./retention";
import { createFileDocumentStore, type DocumentKind, type DocumentStore } from "./store";
import type { IndexState } from "../domain/entities";
import { openTimestamper, type Timestamper } from "../evidence/timestamper";
import { readFileIfExists } from "../store/atomic-file";

const idParam = (name: string, what: string) => z.object({ [name]: z.string().describe(what) });
/** The plain routers above, described for the OpenAPI document (their handlers validate with zod themselves). */
const DOCUMENT_AND_EVIDENCE_ROUTES: RouteSpec[] = [
  {
    method: "post",
    path: "/api/documents",
    summary: "Upload a document (raw bytes, application/octet-stream); stored by sha256 and batched for anchoring",
    tag: "documents",
    auth: "session",
    query: z.object({
      kind: z.string().describe("Document kind, e.g. purchase_order, invoice, kyc_id_scan"),
      linkType: z.enum(["order", "receivable", "loan"]).optional().describe("Record the document belongs to"),
      linkId: z.string().optional().describe("Id of that record"),
    }),
    errors: [400, 401, 403, 413, 415],
  },
  { method: "get", path: "/api/documents", summary: "Documents the caller uploaded", tag: "documents", auth: "session", errors: [401] },
  {
    method: "get",
    path: "/api/documents/:sha256",
    summary: "A document's metadata, or its bytes with ?download=1 (404 for anyone not allowed to read it)",
    tag: "documents",
    auth: "session",
    params: idParam("sha256", "sha256 of the document, 0x-hex"),
    errors: [400, 401, 404, 410],
  },
  { method: "get", path: "/api/evidence/:sha256", summary: "Anchors of a sha256, re-read from the chain", tag: "evidence", auth: "public", params: idParam("sha256", "0x-hex sha256"), errors: [400] },
  { method: "post", path: "/api/evidence/file", summary: "Anchors of an uploaded file (hashed server side)", tag: "evidence", auth: "public", errors: [400, 413] },
  { method: "get", path: "/api/evidence/agreement/:id", summary: "A loan agreement: typed data, signatures, recovered signers, history", tag: "evidence", auth: "public", params: idParam("id", "Loan id or agreement digest"), errors: [400, 404] },
  { method: "get", path: "/api/evidence/order/:id", summary: "An order's on-chain history", tag: "evidence", auth: "public", params: idParam("id", "Order id"), errors: [400, 404] },
  { method: "get", path: "/api/evidence/receivable/:id", summary: "A receivable: its order, acknowledgment, pledges and payments", tag: "evidence", auth: "public", params: idParam("id", "Receivable id"), errors: [400, 404] },
  { method: "get", path: "/api/evidence/tx/:hash", summary: "The network's events in one transaction", tag: "evidence", auth: "public", params: idParam("hash", "Transaction hash"), errors: [400, 404] },
  {
    method: "get",
    path: "/api/evidence/bundle/:kind/:id",
    summary: "A self-contained evidence bundle that scripts/verify-evidence.ts checks against any node",
    tag: "evidence",
    auth: "public",
    params: z.object({ kind: z.enum(["agreement", "document", "receivable", "order"]), id: z.string() }),
    errors: [400, 404],
  },
];

export interface DocumentServiceOptions {
  dataDir: string;
  publicClient: PublicClient;
  deployment: Deployment;
  /** The service operator's account (an admitted participant) that anchors batches; none: uploads stay pending. */
  walletClient?: WalletClient<Transport, Chain | undefined, Account>;
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
  /** RFC 3161 time-stamping authority for batch roots and agreement digests (TSA_URL); none: bundles say so. */
  tsaUrl?: string;
  /** How often to ask for the tokens still missing (default 5 s). */
  timestampIntervalMs?: number;
}

export interface DocumentService {
  store: DocumentStore;
  batcher?: Batcher;
  retention: RetentionJob;
  timestamper?: Timestamper;
  routes: RouteModule;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Participants' display names the operator published (DATA_DIR/demo-accounts.json, as the demo seed
 * writes it): evidence bundles carry a name only where its sha256 is the registry's displayNameHash.
 */
async function publishedNames(dataDir: string): Promise<Record<string, string>> {
  const text = await readFileIfExists(path.join(dataDir, "demo-accounts.json"));
  if (text === null) return {};
  const file = JSON.parse(text) as { accounts?: { address: string; name: string }[] };
  return Object.fromEntries((file.accounts ?? []).map((a) => [a.address.toLowerCase(), a.name]));
}

export async function openDocumentService(opts: DocumentServiceOptions): Promise<DocumentService> {
  const store = await createFileDocumentStore({ dataDir: opts.dataDir, now: opts.now });
  const batcher = opts.walletClient
    ? createBatcher({
        store,
        publicClient: opts.publicClient,
        walletClient: opts.walletClient,
        notary: opts.deployment.contracts.EvidenceNotary,
        maxCount: opts.batchMaxCount,
        maxDelayMs: opts.batchMaxDelayMs,
        logger: opts.logger?.child({ module: "notary-batcher" }),
      })
    : undefined;
  const retention = createRetentionJob({
    store,
    now: opts.now,
    retentionDays: opts.retentionDays,
    kinds: opts.retentionKinds,
    logger: opts.logger?.child({ module: "document-retention" }),
  });
  const timestamper = opts.tsaUrl
    ? await openTimestamper({ dataDir: opts.dataDir, tsaUrl: opts.tsaUrl, intervalMs: opts.timestampIntervalMs, logger: opts.logger?.child({ module: "timestamper" }) })
    : undefined;
  let indexState: (() => IndexState) | undefined;
  return {
    store,
    batcher,
    retention,
    timestamper,
    routes(ctx) {
      indexState = () => ctx.deps.indexer.state();
      const deps = { state: indexState, publicClient: opts.publicClient, deployment: opts.deployment };
      ctx.table.router.use(createDocumentsRouter({ ...deps, store, batcher, maxBytes: opts.maxBytes, authority: ctx.deps.authority }));
      ctx.table.router.use(createEvidenceRouter({ ...deps, documents: store, timestamps: timestamper, participantNames: () => publishedNames(opts.dataDir), maxBytes: opts.maxBytes }));
      for (const spec of DOCUMENT_AND_EVIDENCE_ROUTES) ctx.table.describe(spec);
    },
    async start() {
      await retention.start();
      batcher?.start();
      if (timestamper && indexState) timestamper.start(indexState);
    },
    async stop() {
      await retention.stop();
      await batcher?.stop();
      await timestamper?.stop();
    },
  };
}
