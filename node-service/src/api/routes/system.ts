/**
 * Public service routes: health (indexer lag), Prometheus metrics, the OpenAPI description, the web UI's
 * public configuration and the metric definitions.
 */
import path from "node:path";
import { METRIC_DEFINITIONS } from "../../metrics/definitions";
import { readFileIfExists } from "../../store/atomic-file";
import { gauge, renderEventLoopDelay, renderGcAndMemory } from "../prometheus";
import { isStorageFull, storageHealth } from "../../store/storage-health";
import { openApiDocument } from "../route";
import { requireSession } from "../authorize";
import { ForbiddenError } from "../../domain/errors";
import type { RouteContext } from "../app";
import { isDatabaseUnavailable, type DatabaseHealth } from "../../store/postgres/db";

interface DemoAccountView {
  index: number;
  address: string;
  name: string;
  role: string;
}

/** /healthz answers within a second even when the node hangs: the head is "unreachable" after this. */
const HEAD_TIMEOUT_MS = 700;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function mountSystemRoutes({ deps, table, latency }: RouteContext): void {
  const { config, deployment, indexer, publicClient } = deps;

  // The head is asked from the node (the indexer's own idea of it is only as fresh as its last poll),
  // at most every 250 ms so that a busy health check does not load the node.
  let head: { at: number; value: Promise<number | null> } | undefined;
  function headBlockNumber(): Promise<number | null> {
    if (!head || Date.now() - head.at > 250)
      head = {
        at: Date.now(),
        value: withTimeout(publicClient.getBlockNumber({ cacheTime: 0 }), HEAD_TIMEOUT_MS).then(Number, () => null),
      };
    return head.value;
  }

  // The head shown is never below what the indexer has itself seen of the chain: a cached reading may
  // be up to 250 ms old, and the index may have moved past it meanwhile (on a fast node it does).
  async function lag() {
    const node = await headBlockNumber();
    const { indexedBlock, headBlock: indexerHead } = indexer.stats();
    const headBlock = node === null ? null : Math.max(node, indexerHead, indexedBlock);
    const lagBlocks = headBlock === null ? null : Math.max(0, headBlock - indexedBlock);
    return { indexedBlock, headBlock, lagBlocks };
  }

  /** With DATABASE_URL: whether the database answers (within the same second as the head). */
  async function databaseHealth(): Promise<DatabaseHealth | undefined> {
    if (!deps.database) return undefined;
    return withTimeout(deps.database.probe(), HEAD_TIMEOUT_MS).catch((err: Error) => ({ ok: false, error: err.message }));
  }

  table.add(
    {
      method: "get",
      path: "/healthz",
      summary: "Liveness and indexer lag in blocks (503 when the chain or the database is unreachable, or the index lags)",
      tag: "system",
      auth: "public",
      errors: [503],
    },
    async ({ res }) => {
      const [{ indexedBlock, headBlock, lagBlocks }, database] = await Promise.all([lag(), databaseHealth()]);
      const maxLag = config.HEALTH_MAX_LAG_BLOCKS + config.CONFIRMATIONS;
      const storageFailures = storageHealth.failures();
      const halted = indexer.halted();
      const ok = lagBlocks !== null && lagBlocks <= maxLag && storageFailures.length === 0 && !halted && database?.ok !== false;
      const full = storageFailures.find((f) => isStorageFull({ code: f.code }));
      const status = halted
        ? halted
        : full
          ? `storage full: ${full.file} could not be written (${full.code})`
          : storageFailures.length > 0
            ? `storage failing: ${storageFailures[0].file} could not be written (${storageFailures[0].code})`
            : database?.ok === false
              ? `database unreachable: ${database.error}`
              : headBlock === null
                ? "chain unreachable"
                : lagBlocks !== null && lagBlocks <= maxLag
                  ? "ok"
                  : "indexer lagging";
      res.status(ok ? 200 : 503);
      return {
        status,
        chainId: deployment.chainId,
        indexedBlock,
        headBlock,
        lagBlocks,
        maxLagBlocks: maxLag,
        storage: { failures: storageFailures, incidents: storageHealth.incidents() },
        ...(database ? { database } : {}),
      };
    },
  );

  table.add(
    {
      method: "get",
      path: "/metrics",
      summary:
        "Prometheus text: indexed block, lag, events per second, request latency, live sessions, whether the database answers (the operator, or a scraper's METRICS_TOKEN)",
      tag: "system",
      auth: "session-or-scraper",
      errors: [401, 403],
      produces: "text/plain; version=0.0.4",
    },
    async ({ res }) => {
      // Session counts and latencies are the operator's business: scrape with METRICS_TOKEN (app.ts) or an
      // operator session's bearer token.
      if (res.locals.metricsScraper !== true && !requireSession(res).operator)
        throw new ForbiddenError("only the operator reads the service's metrics");
      const [{ indexedBlock, headBlock, lagBlocks }, database] = await Promise.all([lag(), databaseHealth()]);
      // The sessions are in the database on PostgreSQL: while it is out of reach their number is unknown.
      const sessions = await deps.sessions.size().catch((err: unknown) => {
        if (isDatabaseUnavailable(err)) return NaN;
        throw err;
      });
      const text = [
        gauge("scf_indexer_block", "Last block applied by the indexer", indexedBlock),
        gauge("scf_chain_head_block", "Head block of the node", headBlock ?? NaN),
        gauge("scf_indexer_lag_blocks", "Blocks between the head and the index", lagBlocks ?? NaN),
        gauge(
          "scf_indexer_events_total",
          "Contract events in the index (a reader process: in the committed index)",
          indexer.stats().eventCount,
          "counter",
        ),
        gauge("scf_indexer_events_per_second", "Events reduced per second, as the indexer measures it", indexer.stats().eventsPerSecond),
        gauge("scf_sessions", "Live sign-in sessions (NaN while the database holding them is out of reach)", sessions),
        ...(database
          ? [gauge("scf_database_up", "1 when the database (DATABASE_URL) answered its last probe, else 0", database.ok ? 1 : 0)]
          : []),
        latency.render(),
        renderEventLoopDelay(),
        renderGcAndMemory(),
      ].join("\n");
      res.type("text/plain; version=0.0.4").send(`${text}\n`);
      return undefined;
    },
  );

  table.add(
    { method: "get", path: "/api/openapi.json", summary: "This description (OpenAPI 3.1)", tag: "system", auth: "public", errors: [429] },
    () => openApiDocument(table.specs, { title: "Supply-chain financing network API", version: "1" }),
  );

  // On the embedded chain only: which well-known test account plays which demo participant
  // (DATA_DIR/demo-accounts.json, written by the seed), for the UI's account picker.
  let demoAccounts: Promise<DemoAccountView[] | undefined> | undefined;
  function readDemoAccounts(): Promise<DemoAccountView[] | undefined> {
    if (!config.DEV_ACCOUNTS) return Promise.resolve(undefined);
    demoAccounts ??= readFileIfExists(path.join(path.resolve(config.DATA_DIR), "demo-accounts.json")).then(
      (text) => {
        if (text === null) {
          demoAccounts = undefined; // not seeded yet: look again next time
          return undefined;
        }
        const file = JSON.parse(text) as { accounts: { index: number; address: string; name: string; roles: string[] }[] };
        return file.accounts.map((a) => ({ index: a.index, address: a.address, name: a.name, role: a.roles.join("+") || "OPERATOR" }));
      },
      (err: unknown) => {
        demoAccounts = undefined;
        throw err;
      },
    );
    return demoAccounts;
  }

  table.add(
    {
      method: "get",
      path: "/api/config",
      summary:
        "Public configuration for the web UI: chain, contracts, public RPC URL, block explorer URL template, dev accounts flag (and the demo accounts when on)",
      tag: "system",
      auth: "public",
      errors: [429],
    },
    async () => ({
      chainId: deployment.chainId,
      startBlock: deployment.startBlock,
      contracts: deployment.contracts,
      publicRpcUrl: config.PUBLIC_RPC_URL ?? config.RPC_URL,
      explorerTxUrl: config.EXPLORER_TX_URL ?? null,
      devAccounts: config.DEV_ACCOUNTS,
      siweDomain: deps.siweDomains()[0],
      demoAccounts: await readDemoAccounts(),
    }),
  );

  table.add(
    {
      method: "get",
      path: "/api/metrics/definitions",
      summary: "Every metric's name, unit, window and one-line definition",
      tag: "metrics",
      auth: "public",
      errors: [429],
    },
    () => ({ definitions: METRIC_DEFINITIONS }),
  );
}
