/**
 * The service's configuration: one zod schema over the environment, read once at boot. Every key has a
 * default and a one-line doc (also listed in .env.example); a bad value stops the service with a message
 * naming the key, instead of surfacing later as a strange failure.
 */
import path from "node:path";
import { z } from "zod";
import { FEE_ENV_SCHEMA, feeSettingsProblem } from "./chain/fees";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const flag = z.stringbool({ truthy: ["true", "1", "yes"], falsy: ["false", "0", "no", ""] });

export const CONFIG_SCHEMA = z
  .object({
    PORT: port.default(3000).describe("TCP port of the HTTP API and web UI (0 picks a free port)."),
    HOST: z
      .string()
      .min(1)
      .default("127.0.0.1")
      .describe("Interface to listen on; keep loopback unless a reverse proxy fronts the service."),
    RPC_URL: z.url().default("http://127.0.0.1:8545").describe("JSON-RPC endpoint of the EVM node the indexer and authorization read."),
    CHAIN_ID: positiveInt.default(31337).describe("Chain id the deployment file and SIWE messages must match."),
    DEPLOYMENT_FILE: z
      .string()
      .min(1)
      .default("data/deployment.json")
      .describe("Contract addresses and start block written by scripts/deploy.ts."),
    DATA_DIR: z.string().min(1).default("data").describe("Directory for the index, sessions, access log and documents (back it up)."),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "a postgres:// or postgresql:// connection URL")
      .optional()
      .describe(
        "PostgreSQL for every store (index, applications, timestamps, documents and their bytes, sessions and sign-in nonces, access log, notifications' read marks and webhooks) instead of lowdb files in DATA_DIR; migrations are applied at start.",
      ),
    SERVICE_ROLE: z
      .enum(["indexer", "reader"])
      .default("indexer")
      .describe(
        "indexer: the process indexes the chain in memory (and, on PostgreSQL, may write the index and run the background jobs). reader (needs DATABASE_URL): it holds no index and serves enterprises' metrics, series and lists, the caller's loans and consents, the participants' directory, applications (creation and decision included), the back-test (borrower by borrower), evidence and documents from the committed index, by key, so its memory does not grow with the index (a back-test holds one borrower's records at a time).",
      ),
    READER_KEPT_KEYS: z.coerce
      .number()
      .int()
      .min(0)
      .default(300_000)
      .describe(
        "SERVICE_ROLE=reader: how many keys of enterprises' slices (the records and lists their metrics read) the process keeps in memory with their records, the enterprises read last first; a commit that changes a few of a kept slice's keys then costs reading those keys instead of the whole slice. 0: keep none (every change reads the slice again).",
      ),
    CONFIRMATIONS: z.coerce
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Blocks behind the head the indexer waits before applying a block (0 on the local chain)."),
    RPC_TIMEOUT_MS: positiveInt
      .default(3000)
      .describe("Longest wait for one JSON-RPC answer; a hung node then fails requests fast with 503 chain_unavailable."),
    POLL_INTERVAL_MS: positiveInt.default(1000).describe("How often the indexer polls the node for new blocks."),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info").describe("pino log level."),
    SESSION_SECRET: z
      .string()
      .min(32, "must be at least 32 characters")
      .optional()
      .describe("HMAC key for session tokens; generated and kept in DATA_DIR when unset."),
    METRICS_TOKEN: z
      .string()
      .min(32, "must be at least 32 characters")
      .optional()
      .describe(
        "Bearer token a Prometheus scraper sends to read /metrics without a session (so also during a database outage); it opens /metrics and nothing else. Unset: /metrics needs an operator session.",
      ),
    SESSION_TTL_SECONDS: positiveInt
      .default(24 * 3600)
      .describe("Lifetime of a sign-in session (shortened by the SIWE message's expirationTime)."),
    SIWE_DOMAIN: z
      .string()
      .optional()
      .describe("Comma-separated host[:port] values accepted as the SIWE domain; default the listening host:port and localhost:port."),
    ROLE_CACHE_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(3000)
      .describe(
        "How long on-chain roles read for a session are reused; beyond it, up to 10 minutes while the head watcher is current (forgotten when it sees a ParticipantRegistry event for the account). 0: read at every request.",
      ),
    RATE_LIMIT_PER_MINUTE: positiveInt.default(600).describe("Requests per minute allowed to one client (by IP address) on /api."),
    SIGN_INS_PER_MINUTE: positiveInt
      .default(30)
      .describe("Sign-in nonces and verifications per minute allowed to one client (by IP address): bounds the sessions any key can open."),
    TRADE_LOOKUPS_PER_MINUTE: positiveInt
      .default(60)
      .describe("Order and receivable evidence lookups per minute allowed to one signed-in account."),
    MAX_OPEN_APPLICATIONS_PER_BORROWER: positiveInt.default(5).describe("Loan applications one borrower may have open at once."),
    MAX_APPLICATIONS_PER_BORROWER_PER_DAY: positiveInt.default(20).describe("Loan applications one borrower may make in 24 hours."),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, "a size such as 100kb")
      .default("100kb")
      .describe("Largest JSON request body accepted (larger ones get 413)."),
    HEALTH_MAX_LAG_BLOCKS: z.coerce.number().int().min(0).default(10).describe("Indexer lag in blocks above which /healthz answers 503."),
    PUBLIC_RPC_URL: z.url().optional().describe("JSON-RPC URL the browser uses to check anchors itself; default RPC_URL."),
    EXPLORER_TX_URL: z
      .string()
      .regex(/^https?:\/\/[^\s{}]*\{hash\}[^\s{}]*$/, "an http(s) URL with {hash} where the transaction hash goes")
      .optional()
      .describe(
        "Block explorer page of a transaction, {hash} standing for its hash; the web UI links transaction hashes to it. Unset: hashes are shown as text.",
      ),
    DEV_ACCOUNTS: flag
      .default(false)
      .describe("Offer the embedded chain's well-known test accounts in the UI; true only on the embedded chain."),
    TRUST_PROXY: flag
      .default(false)
      .describe("Trust X-Forwarded-For (set when behind a reverse proxy) so rate limits apply per real client."),
    SERVICE_PRIVATE_KEY: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex private key")
      .optional()
      .describe(
        "Key of the service's own account (an admitted participant): anchors document batches and decisions, submits countersigned agreements. From the environment only; unset leaves those steps to the parties.",
      ),
    WEB_DIR: z.string().min(1).default("web/dist").describe("Built web UI (vite build web) served at /; missing means API only."),
    DOCUMENT_MAX_BYTES: positiveInt.default(10 * 1024 * 1024).describe("Largest document upload in bytes (larger ones get 413)."),
    DOCUMENT_RETENTION_DAYS: positiveInt
      .default(90)
      .describe("Days after which identity and biometric documents are purged (the hash and anchor stay)."),
    NOTARY_BATCH_MAX_COUNT: positiveInt
      .default(256)
      .describe("Pending documents that trigger anchoring one Merkle root on the EvidenceNotary."),
    NOTARY_BATCH_MAX_DELAY_MS: positiveInt
      .default(60_000)
      .describe("Longest a pending document waits before its batch is anchored anyway."),
    TSA_URL: z
      .url()
      .optional()
      .describe(
        "RFC 3161 time-stamping authority asked for a token over each anchored batch root and recorded agreement digest; unset: bundles say their times rest on the block producer alone.",
      ),
    NOTIFY_DUE_SOON_DAYS: z.coerce
      .number()
      .int()
      .min(0)
      .max(365)
      .default(7)
      .describe("A borrower is notified that a loan is due soon this many days before maturity."),
    WEBHOOK_RETRY_BASE_MS: positiveInt
      .default(5_000)
      .describe("First retry of a failed webhook delivery after this many ms, doubling up to an hour."),
    WEBHOOK_MAX_ATTEMPTS: positiveInt.default(12).describe("Attempts of one webhook delivery before it is given up (and logged as such)."),
    WEBHOOK_ALLOW_LOOPBACK: flag
      .default(false)
      .describe(
        "Let webhooks point to loopback addresses (also over plain http): for tests and a gateway on the same machine only. Other private, link-local and special addresses are always refused.",
      ),
    ...FEE_ENV_SCHEMA,
  })
  .superRefine((c, ctx) => {
    if (c.SERVICE_ROLE === "reader" && !c.DATABASE_URL)
      ctx.addIssue({
        code: "custom",
        path: ["SERVICE_ROLE"],
        message: "reader needs DATABASE_URL (it reads the index another process commits there)",
      });
    const problem = feeSettingsProblem(c);
    if (problem) ctx.addIssue({ code: "custom", path: [problem.key], message: problem.message });
  });

export type Config = z.infer<typeof CONFIG_SCHEMA>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment (empty strings count as unset); throws ConfigError naming each bad key. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(CONFIG_SCHEMA.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const parsed = CONFIG_SCHEMA.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  return { ...parsed.data, ...overrides };
}

/** DATA_DIR and DEPLOYMENT_FILE resolved against the working directory. */
export function resolvePaths(config: Config): { dataDir: string; deploymentFile: string } {
  return { dataDir: path.resolve(config.DATA_DIR), deploymentFile: path.resolve(config.DEPLOYMENT_FILE) };
}
