/**
 * Composition root: configuration -> deployment record -> viem client -> indexer -> stores -> express
 * app -> listening server. `startService` is what `npm start`, the tests and the benchmarks call;
 * `ts-node node-service/src/server.ts` runs it against an external node from the environment.
 */
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { pino, type Logger } from "pino";
import { existsSync } from "node:fs";
import path from "node:path";
import express from "express";
import {
  createPublicClient,
  createWalletClient,
  http,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { CONTRACT_NAMES, REPO_ROOT, type Deployment } from "./chain/contracts";
import { feeFields } from "./chain/fees";
import { createTxSender, type TxSender } from "./chain/sender";
import { ConfigError, loadConfig, resolvePaths, type Config } from "./config";
import { createIndexer, type Indexer } from "./indexer/indexer";
import { createCommittedIndex } from "./indexer/committed";
import { committedEnterpriseReads, inMemoryEnterpriseReads } from "./metrics/enterprise-reads";
import { committedLoanReads, inMemoryLoanReads } from "./loans/loan-reads";
import { committedParticipantReads, inMemoryParticipantReads } from "./participants/participant-reads";
import { createPostgresIndexReader } from "./store/postgres/index-reader";
import { stateReader } from "./store/index-reader";
import { committedApplicationIndex } from "./underwriting/application-index";
import { createChainAuthority, type ChainAuthority } from "./auth/chain-authority";
import { createConsentWatcher } from "./auth/consent-watch";
import { consentRecord } from "./indexer/reducers/consentRegistry";
import { openPostgresSessionStore, openSessionStore } from "./auth/sessions";
import { createPostgresNonceBook, createSiweVerifier } from "./auth/siwe";
import { openAccessLog, openPostgresAccessLog } from "./api/access-log";
import { LOCK_SENDER, openDatabase, withAdvisoryLock, type Database } from "./store/postgres/db";
import { createChangeListener, type ChangeHandler, type ChangeListener } from "./store/postgres/listener";
import { createPostgresIndexStore } from "./store/postgres/index-store";
import { createIndexLeadership } from "./store/postgres/leader";
import { scopeNames } from "./api/authorize";
import { createApp, createHttpServer, type RouteModule } from "./api/app";
import { openDocumentService, type DocumentService } from "./documents/service";
import { createNameBook } from "./participants/directory";
import { documentAndEvidenceRoutes } from "./api/routes/document-routes";
import { openTimestamper, type Timestamper } from "./evidence/timestamper";
import { ApplicationService } from "./applications/service";
import { backtestRoutes } from "./api/routes/backtest";
import { applicationRoutes } from "./api/routes/applications";
import { notificationRoutes } from "./api/routes/notifications";
import { NotificationService } from "./notifications/service";
import { CURRENT_POLICY } from "./underwriting/policy";
import { CorruptFileError, parseJsonFile, removeStaleTempFiles } from "./store/atomic-file";
import { JournalDamagedError } from "./store/framed-journal";

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/);
const DeploymentSchema = z.object({
  chainId: z.number().int().positive(),
  genesisHash: hex,
  startBlock: z.number().int().min(0),
  deployer: hex,
  gracePeriod: z.number().int().min(0),
  contracts: z.object(Object.fromEntries(CONTRACT_NAMES.map((n) => [n, hex.length(42)]))),
});

export interface StartServiceOptions {
  /** Talk to the chain through this transport instead of http(RPC_URL) (e.g. an in-process provider). */
  transport?: Transport;
  logger?: Logger;
  /** Extra route modules mounted before the 404 handler (applications, documents and evidence are built in). */
  modules?: RouteModule[];
  /**
   * The service's own account, when not from SERVICE_PRIVATE_KEY: an address the node holds unlocked
   * (the embedded dev chain) or a local account. It anchors document batches and decisions and submits
   * countersigned agreements.
   */
  serviceAccount?: Account | Address;
  /** Seconds since the epoch; tests move the service's clock. */
  now?: () => number;
  /** A document service opened (and started, stopped) by the caller, used instead of the built-in one. */
  documents?: DocumentService;
  /** How often the timestamper asks TSA_URL for the tokens still missing (default 5 s). */
  timestampIntervalMs?: number;
}

export interface RunningService {
  url: string;
  app: ReturnType<typeof createApp>;
  /** The indexer, or for a reader (SERVICE_ROLE=reader) the committed index it follows (its state() refuses). */
  indexer: Indexer;
  applications: ApplicationService;
  documents: DocumentService;
  /** The service account's one transaction sender (absent without a service account). */
  sender?: TxSender;
  deployment: Deployment;
  publicClient: PublicClient;
  /** RFC 3161 tokens for batch roots and agreement digests, when TSA_URL is set. */
  timestamper?: Timestamper;
  /** Roles and consents as the API reads them (consentBlock(): the block its consent answers reflect). */
  authority: ChainAuthority;
  close(): Promise<void>;
}

export async function readDeployment(file: string, chainId: number): Promise<Deployment> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new ConfigError([`DEPLOYMENT_FILE: ${file} cannot be read; deploy first (npm run deploy -- --rpc URL)`]);
  }
  const parsed = DeploymentSchema.safeParse(
    parseJsonFile(
      file,
      text,
      "Restore it from a backup, or deploy again (npm run deploy -- --rpc URL) and point DEPLOYMENT_FILE at the new file.",
    ),
  );
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `DEPLOYMENT_FILE ${file}: ${i.path.join(".")}: ${i.message}`));
  if (parsed.data.chainId !== chainId)
    throw new ConfigError([`DEPLOYMENT_FILE: made for chain ${parsed.data.chainId}, but CHAIN_ID is ${chainId}`]);
  return parsed.data as Deployment;
}

export async function startService(config: Config, options: StartServiceOptions = {}): Promise<RunningService> {
  const { dataDir, deploymentFile } = resolvePaths(config);
  const logger = options.logger ?? pino({ level: config.LOG_LEVEL });
  // Every JSON-RPC call is bounded (one retry): a hung node fails requests fast instead of after ~40 s.
  const rpc = (extra: { batch?: boolean } = {}) => http(config.RPC_URL, { timeout: config.RPC_TIMEOUT_MS, retryCount: 1, ...extra });
  const deployment = await readDeployment(deploymentFile, config.CHAIN_ID);
  // Temp files of writes a crash cut short: never acknowledged, never read.
  for (const file of await removeStaleTempFiles(dataDir)) logger.warn({ file }, "removed a temp file left by an interrupted write");
  // cacheTime 0: viem would otherwise reuse a block number for 4 s, and the indexer and /healthz want the head.
  const publicClient = createPublicClient({
    transport: options.transport ?? rpc(),
    pollingInterval: config.POLL_INTERVAL_MS,
    cacheTime: 0,
  }) as PublicClient;
  const nodeChainId = await publicClient.getChainId().catch((err: unknown) => {
    throw new ConfigError([
      `RPC_URL: ${config.RPC_URL} does not answer (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`,
    ]);
  });
  if (nodeChainId !== config.CHAIN_ID)
    throw new ConfigError([`CHAIN_ID: the node at RPC_URL is chain ${nodeChainId}, not ${config.CHAIN_ID}`]);

  // DATABASE_URL: every store in PostgreSQL (migrations applied now); otherwise lowdb files in DATA_DIR.
  const db: Database | undefined = config.DATABASE_URL ? await openDatabase(config.DATABASE_URL) : undefined;
  // Several processes may share the database: each indexing one indexes in memory, one (an advisory lock)
  // writes the index and runs the background jobs that send transactions (reconcile and decision anchors,
  // the notary batcher, the timestamper): `runsJobs`. One process alone (lowdb) runs them all. A reader
  // (SERVICE_ROLE=reader) holds no index: it follows what is committed, never writes it, runs no job.
  const indexReader = db && config.SERVICE_ROLE === "reader" ? createPostgresIndexReader(db) : undefined;
  const committed = indexReader
    ? createCommittedIndex({
        reader: indexReader,
        publicClient,
        deployment,
        pollIntervalMs: config.POLL_INTERVAL_MS,
        logger: logger.child({ module: "committed-index" }),
      })
    : undefined;
  /** Reconciles applications (set once the indexer runs): on taking the lock, and on another process's change. */
  let onLeadership: () => void = () => undefined;
  const leadership =
    db && config.DATABASE_URL && !committed
      ? createIndexLeadership({
          url: config.DATABASE_URL,
          inner: await createPostgresIndexStore(db),
          logger: logger.child({ module: "index-writer" }),
          onAcquired: () => onLeadership(),
        })
      : undefined;
  const runsJobs = committed ? () => false : leadership ? () => leadership.isLeader() : undefined;
  const indexer: Indexer =
    committed ??
    (await createIndexer({
      publicClient,
      deployment,
      dataDir,
      ...(leadership ? { store: leadership.store } : {}),
      confirmations: config.CONFIRMATIONS,
      pollIntervalMs: config.POLL_INTERVAL_MS,
      logger: logger.child({ module: "indexer" }),
    }));
  const pgSessions = db ? await openPostgresSessionStore({ db, secret: config.SESSION_SECRET }) : undefined;
  const sessions = pgSessions ?? (await openSessionStore({ dataDir, secret: config.SESSION_SECRET }));
  const accessLog = db
    ? openPostgresAccessLog({ db })
    : await openAccessLog({ dataDir, warn: (message, details) => logger.warn(details, message) });
  // Authorization reads come in pairs (scopesAt + consentOf, participant + hasRole): over HTTP, send
  // each pair as one JSON-RPC batch.
  const authorityClient = options.transport
    ? publicClient
    : (createPublicClient({ transport: rpc({ batch: true }), cacheTime: 0 }) as PublicClient);
  // Consents per block from the index and a head watcher: no chain read per request (see auth/consent-watch.ts).
  const consentWatcher = createConsentWatcher({
    publicClient,
    deployment,
    pollIntervalMs: config.POLL_INTERVAL_MS,
    index: committed?.consentView ?? {
      indexedBlock: () => indexer.stats().indexedBlock,
      indexedBlockTime: () => indexer.stats().indexedBlockTime,
      consent: (b, l) => consentRecord(indexer.state(), b, l),
    },
    logger: logger.child({ module: "consent-watch" }),
  });
  const authority = createChainAuthority({
    publicClient: authorityClient,
    deployment,
    roleCacheMs: config.ROLE_CACHE_MS,
    consents: consentWatcher,
  });
  const siwe = createSiweVerifier({ publicClient, chainId: config.CHAIN_ID, ...(db ? { nonces: createPostgresNonceBook(db) } : {}) });

  const transport = options.transport ?? rpc();
  const account =
    options.serviceAccount ?? (config.SERVICE_PRIVATE_KEY ? privateKeyToAccount(config.SERVICE_PRIVATE_KEY as `0x${string}`) : undefined);
  const serviceWallet: WalletClient<Transport, Chain, Account> | undefined = account
    ? (createWalletClient({
        account,
        transport,
        chain: {
          id: deployment.chainId,
          name: `chain ${deployment.chainId}`,
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
          rpcUrls: { default: { http: [config.RPC_URL] } },
        },
      }) as WalletClient<Transport, Chain, Account>)
    : undefined;
  if (!serviceWallet) logger.warn("no SERVICE_PRIVATE_KEY: documents stay pending and agreements are not submitted by the service");
  // One sender for the service's account: document batches, decision anchors and agreements share its queue and nonces.
  const sender: TxSender | undefined = serviceWallet
    ? createTxSender({
        publicClient,
        walletClient: serviceWallet,
        fees: feeFields(config),
        logger: logger.child({ module: "sender" }),
        // Every process may send (a countersignature arrives at any of them): nonces are picked under one lock.
        ...(db ? { exclusive: <T>(fn: () => Promise<T>) => withAdvisoryLock(db, LOCK_SENDER, fn) } : {}),
      })
    : undefined;

  const ownDocuments = !options.documents;
  const documents =
    options.documents ??
    (await openDocumentService({
      dataDir,
      db,
      publicClient,
      deployment,
      sender,
      logger: logger.child({ module: "documents" }),
      maxBytes: config.DOCUMENT_MAX_BYTES,
      retentionDays: config.DOCUMENT_RETENTION_DAYS,
      batchMaxCount: config.NOTARY_BATCH_MAX_COUNT,
      batchMaxDelayMs: config.NOTARY_BATCH_MAX_DELAY_MS,
      runsJobs,
      ...(options.now ? { now: () => options.now!() * 1000 } : {}),
    }).catch(async (err: unknown) => {
      await accessLog.close(); // a corrupt documents index stops the start: close what is open
      throw err;
    }));
  const timestamper = config.TSA_URL
    ? await openTimestamper({
        dataDir,
        db,
        tsaUrl: config.TSA_URL,
        intervalMs: options.timestampIntervalMs,
        logger: logger.child({ module: "timestamper" }),
        runsJobs,
      })
    : undefined;
  // A corrupt applications snapshot stops the start: close the access log opened above first.
  // Verified registered names for the agreement document (the operator's DATA_DIR/participant-names.json).
  const nameBook = createNameBook({ dataDir });
  await nameBook.refresh();
  // A reader's enterprise reads: its metrics and series, and the slices a decision's input reads (kept once for both).
  const committedReads =
    indexReader && committedEnterpriseReads(indexReader, () => indexer.checkpoint(), { keptKeys: config.READER_KEPT_KEYS });
  const applications = await ApplicationService.open({
    dataDir,
    db,
    deployment,
    publicClient,
    sender,
    logger: logger.child({ module: "applications" }),
    state: () => indexer.state(),
    ...(indexReader ? { applicationIndex: committedApplicationIndex(indexReader, CURRENT_POLICY, committedReads) } : {}),
    partyName: (address, index) => nameBook.verifiedName(address, index),
    consentNow: (borrower, lender) => consentWatcher.current(borrower, lender),
    policy: CURRENT_POLICY,
    now: options.now,
    // The decision's clock without a chain read: the head watcher's newest block when its read began at
    // most two poll intervals ago (one interval between polls, one for the poll itself), and never before
    // the index's tip; otherwise the service reads the latest block from the node.
    followedChainTime: () => {
      const head = consentWatcher.head(2 * config.POLL_INTERVAL_MS);
      return head ? Math.max(head.time, indexer.stats().indexedBlockTime) : undefined;
    },
    warn: (message, details) => logger.warn(details, message),
    indexSynced: () => indexer.stats().lag <= config.CONFIRMATIONS,
    limits: { openPerBorrower: config.MAX_OPEN_APPLICATIONS_PER_BORROWER, perBorrowerPerDay: config.MAX_APPLICATIONS_PER_BORROWER_PER_DAY },
    runsJobs,
    // Underwriting reads the borrower's data on the lender's behalf, under the application's consent,
    // and each debtor's tier under the policy.
    recordAccess: async (e) => {
      await accessLog.append({
        id: e.entryId,
        at: e.recordedAt,
        reader: e.reader,
        enterprise: e.enterprise,
        basis: e.basis,
        scopes: scopeNames(e.scopes),
        resource: e.resource,
        applicationId: e.applicationId,
        ...(e.consent ? { consent: { ...e.consent, scopes: scopeNames(e.consent.scopes), checkedAt: e.at } } : {}),
      });
    },
    // The file log tells which entries it holds: a decision's reads are then stored with its record (one
    // write before the answer) and copied to the log after; PostgreSQL writes the log first, as two writes.
    ...(accessLog.has ? { accessRecorded: (id: string) => accessLog.has!(id) } : {}),
  }).catch(async (err: unknown) => {
    await accessLog.close();
    throw err;
  });

  // The loans of a party: from the index in memory, or on a reader from the committed index.
  const loanReads = indexReader ? committedLoanReads(indexReader) : inMemoryLoanReads(() => indexer.state());
  const notifications = await NotificationService.open({
    dataDir,
    db,
    runsJobs,
    loansOf: async (party) => (await loanReads.ofParty(party)).state,
    applications: (party) => applications.involving(party),
    now: () => authority.recentNow(),
    dueSoonDays: config.NOTIFY_DUE_SOON_DAYS,
    retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK,
    logger: logger.child({ module: "notifications" }),
  }).catch(async (err: unknown) => {
    await applications.close();
    await accessLog.close();
    throw err;
  });

  const webDir = path.resolve(REPO_ROOT, config.WEB_DIR);
  const serveWeb: RouteModule = ({ table }) => {
    const indexHtml = path.join(webDir, "index.html");
    if (!existsSync(indexHtml)) return;
    // Built assets carry a content hash in their names: cached; the HTML page is revalidated every time.
    const noCacheHtml = (res: express.Response, file: string) => {
      if (file.endsWith(".html")) res.setHeader("Cache-Control", "no-cache");
    };
    table.router.use(express.static(webDir, { index: "index.html", maxAge: "1h", setHeaders: noCacheHtml }));
    // The app's routes (/lender/portfolio, /manufacturer/apply, ...) are the app's page: a reload or a
    // deep link gets index.html. Not for the API, nor for a missing file (a path with an extension).
    table.router.use((req, res, next) => {
      if ((req.method !== "GET" && req.method !== "HEAD") || /^\/api(\/|$)/.test(req.path) || path.extname(req.path) !== "") return next();
      if (!req.accepts("html")) return next();
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(indexHtml);
    });
  };

  let domains: string[] = [];
  const app = createApp(
    {
      config,
      deployment,
      publicClient,
      indexer,
      enterpriseReads: committedReads ?? inMemoryEnterpriseReads(() => indexer.state()),
      loanReads,
      participantReads: indexReader ? committedParticipantReads(indexReader) : inMemoryParticipantReads(() => indexer.state()),
      index: indexReader ? () => indexReader.direct : () => stateReader(indexer.state()),
      logger,
      sessions,
      accessLog,
      authority,
      siwe,
      database: db,
      siweDomains: () => domains,
      applicationOf: (id) => applications.find(id),
    },
    {
      modules: [
        documentAndEvidenceRoutes(documents, timestamper),
        applicationRoutes(applications),
        notificationRoutes(notifications),
        backtestRoutes(applications),
        ...(options.modules ?? []),
        serveWeb,
      ],
    },
  );

  // What other processes write reaches this one (store/postgres/listener.ts): applications (and so the
  // SSE streams and notifications), documents, timestamps, read marks and webhooks. The index needs none:
  // each indexing process indexes the chain, and a reader polls the committed checkpoint.
  let listener: ChangeListener | undefined;
  if (db && config.DATABASE_URL) {
    const handlers: Record<string, ChangeHandler> = {
      applications: {
        // The process running the jobs reconciles what another process changed (e.g. anchors a decision
        // made there), without waiting for the next block.
        changed: async (id, tag) => {
          if ((await applications.changedElsewhere(id, tag)) && runsJobs?.()) onLeadership();
        },
        resync: async () => {
          await applications.resyncFromStore();
          if (runsJobs?.()) onLeadership();
        },
      },
    };
    if (documents.changedElsewhere && documents.resyncFromStore)
      handlers.documents = { changed: documents.changedElsewhere, resync: documents.resyncFromStore };
    if (timestamper?.changedElsewhere && timestamper.resyncFromStore)
      handlers.timestamps = { changed: timestamper.changedElsewhere, resync: timestamper.resyncFromStore };
    Object.assign(handlers, notifications.changeHandlers());
    // Sessions are kept in memory only while this listener hears of sign-outs (see auth/sessions.ts).
    if (pgSessions) handlers.sessions = pgSessions.followChanges(() => listener?.synced() ?? false);
    listener = createChangeListener({
      url: config.DATABASE_URL,
      handlers,
      logger: logger.child({ module: "listen" }),
      onLost: (err) => db?.suspect(err),
    });
    const waited = await Promise.race([
      listener.ready.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref()),
    ]);
    if (!waited) logger.warn("LISTEN for other processes' changes is not in place yet; it keeps trying");
  }

  await indexer.start();
  await consentWatcher.start();
  timestamper?.start(() => indexer.state());
  if (ownDocuments) await documents.start();
  // Chain steps of applications advance when the indexer has seen their events, and once at start.
  let reconciling = Promise.resolve();
  /** A pass is waiting to start: it will read the latest state, so a burst of triggers needs no second one. */
  let reconcileQueued = false;
  const reconcile = () => {
    // Several processes: only the one running the jobs (the others see its steps through LISTEN).
    if ((runsJobs && !runsJobs()) || reconcileQueued) return;
    reconcileQueued = true;
    reconciling = reconciling
      .then(() => {
        reconcileQueued = false;
        return applications.reconcile();
      })
      .catch((err: unknown) => logger.error({ err }, "reconciling applications failed"));
  };
  // Webhook deliveries follow every application step and indexed block (and time passing: due soon, overdue).
  // Several processes: the one running the jobs enqueues and delivers (notifications/service.ts), and the
  // one taking over picks up the outboxes at once.
  const syncNotifications = () => void notifications.sync().catch((err: unknown) => logger.error({ err }, "notifications sync failed"));
  onLeadership = () => {
    reconcile();
    syncNotifications();
  };
  applications.on("update", syncNotifications);
  indexer.on("batch", syncNotifications);
  notifications.start();
  indexer.on("batch", reconcile);
  indexer.on("reorg", reconcile);
  reconcile();
  const server: Server = await new Promise((resolve, reject) => {
    const s = createHttpServer(app);
    s.once("error", reject);
    s.listen(config.PORT, config.HOST, () => {
      s.off("error", reject);
      resolve(s);
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;
  domains = config.SIWE_DOMAIN
    ? config.SIWE_DOMAIN.split(",")
        .map((d) => d.trim())
        .filter(Boolean)
    : [`${host}:${port}`, `localhost:${port}`];
  const url = `http://${host}:${port}`;
  logger.info({ url, chainId: deployment.chainId }, "service listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    indexer,
    applications,
    documents,
    sender,
    deployment,
    publicClient,
    timestamper,
    authority,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await consentWatcher.stop();
        await indexer.stop();
        await timestamper?.stop();
        if (ownDocuments) await documents.stop();
        await reconciling;
        await listener?.close();
        await notifications.close();
        await applications.close();
        await accessLog.close();
        await leadership?.close();
        await db?.close();
      })();
      return closing;
    },
  };
}

if (require.main === module) {
  (async () => {
    let config: Config;
    try {
      config = loadConfig();
    } catch (err) {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    }
    try {
      const service = await startService(config);
      console.log(`API listening on ${service.url}`);
      const stop = () => {
        service.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    } catch (err) {
      console.error(
        err instanceof ConfigError || err instanceof CorruptFileError || err instanceof JournalDamagedError ? err.message : err,
      );
      process.exit(1);
    }
  })();
}
