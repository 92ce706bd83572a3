/**
 * The HTTP application: security headers, request ids and structured logs, rate limit, body limit,
 * session resolution, the routes, and the one error middleware that turns every failure into
 * `{ error: { code, message, field? } }`. Built from its dependencies so tests and the server compose
 * the same thing.
 */
import { isStorageFull, StorageFullError } from "../store/storage-health";
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { brotliCompressSync, constants as zlibConstants, gzipSync } from "node:zlib";
import compression from "compression";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import { rateLimit } from "express-rate-limit";
import { pinoHttp } from "pino-http";
import type { Logger } from "pino";
import { BaseError, HttpRequestError, TimeoutError, type Address, type PublicClient } from "viem";
import { ZodError } from "zod";
import type { Config } from "../config";
import type { Deployment } from "../chain/contracts";
import type { Indexer } from "../indexer/indexer";
import type { ChainAuthority } from "../auth/chain-authority";
import type { SessionStore } from "../auth/sessions";
import type { SiweVerifier } from "../auth/siwe";
import type { AccessLog } from "./access-log";
import { createAuthorizer, type Authorizer } from "./authorize";
import { ApiError, ChainError, DatabaseUnavailableError, NotFoundError } from "../domain/errors";
import { isDatabaseUnavailable, type Database } from "../store/postgres/db";
import { LatencyHistogram } from "./prometheus";
import { RouteTable } from "./route";
import { mountAuthRoutes, resolveSession } from "./routes/auth";
import { mountEnterpriseRoutes } from "./routes/enterprises";
import { mountLenderRoutes } from "./routes/lenders";
import { mountLoanRoutes } from "./routes/loans";
import { mountParticipantRoutes } from "./routes/participants";
import { mountSystemRoutes } from "./routes/system";
import type { EnterpriseReads } from "../metrics/enterprise-reads";
import type { LoanReads } from "../loans/loan-reads";
import type { ParticipantReads } from "../participants/participant-reads";
import type { IndexReader } from "../store/index-reader";

/** What the API reads from the indexer: its state and its stats. */
export type IndexerView = Pick<Indexer, "state" | "stats" | "halted">;

export interface AppDeps {
  config: Config;
  deployment: Deployment;
  publicClient: PublicClient;
  indexer: IndexerView;
  /** An enterprise's metrics and series: from the index in memory, or from the committed index (a reader process). */
  enterpriseReads: EnterpriseReads;
  /** The caller's loans: from the index in memory, or from the committed index (a reader process). */
  loanReads: LoanReads;
  /** The participants' registry entries for the directory: in memory, or from the committed index (a reader process). */
  participantReads: ParticipantReads;
  /**
   * Keyed reads of the index for evidence and document access: the index in memory, or on a reader each
   * key read from the committed index by its own statement. Called per request (a rebuild replaces the index).
   */
  index: () => IndexReader;
  logger: Logger;
  sessions: SessionStore;
  accessLog: AccessLog;
  authority: ChainAuthority;
  siwe: SiweVerifier;
  /** The database (DATABASE_URL), for /healthz; none on lowdb. */
  database?: Pick<Database, "probe">;
  /** host[:port] values accepted as a SIWE domain; a function because the port is known only after listen. */
  siweDomains: () => string[];
  /** The parties of a loan application, for checking the application a read cites (none: citing one is refused). */
  applicationOf?: (id: string) => { borrower: Address; lender: Address } | undefined;
}

/** Everything a route module gets; later modules (applications, documents) mount with the same context. */
export interface RouteContext {
  deps: AppDeps;
  table: RouteTable;
  authorizer: Authorizer;
  latency: LatencyHistogram;
}

/**
 * Mounts more routes before the 404 handler: either with `ctx.table.add(spec, handler)` (validated,
 * documented, timed), or as a plain router (`ctx.table.router.use("/api", router)`) whose routes are
 * then documented with `ctx.table.describe(spec)`. Errors thrown anywhere reach the one error middleware.
 */
export type RouteModule = (ctx: RouteContext) => void;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function createApp(deps: AppDeps, { modules = [] }: { modules?: RouteModule[] } = {}): Express {
  const { config, logger } = deps;
  const app = express();
  app.set("trust proxy", config.TRUST_PROXY);
  app.set("query parser", "simple");

  const latency = new LatencyHistogram("http_request_duration_seconds", "HTTP request latency by route and status");

  // Request id first, so every later log line and error carries it.
  app.use(
    pinoHttp({
      logger,
      genReqId(req, res) {
        const given = req.headers["x-request-id"];
        const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader("X-Request-Id", id);
        return id;
      },
      // 503 is an expected answer (an unhealthy /healthz, an unreachable chain): a warning, not a failure.
      // (pino-http passes an error for every 5xx, so the status decides first.)
      customLogLevel: (_req, res, err) =>
        res.statusCode === 503 ? "warn" : err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info",
      // Never log cookies or bearer tokens.
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use((req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // Label by route template, never by raw URL (which would make one series per address).
      const route = res.locals.route ?? (req.route ? `${req.method} ${req.baseUrl}${String(req.route.path)}` : "unmatched");
      latency.observe({ route: String(route), status: String(res.statusCode) }, seconds);
    });
    next();
  });

  // Responses and static files compressed (br or gzip, as the client accepts), except the live event
  // stream: compressing it would hold events back in the compressor's buffer. JSON answers are
  // compressed before this, in one call (compressJsonAnswers), and pass it by as already encoded.
  compressJsonAnswers(app);
  app.use(
    compression({
      ...COMPRESSION,
      filter: (req, res) => !String(res.getHeader("Content-Type") ?? "").startsWith("text/event-stream") && compression.filter(req, res),
    }),
  );

  const publicRpc = config.PUBLIC_RPC_URL ?? config.RPC_URL;
  app.use(
    helmet({
      // The web UI reads anchors from the chain itself, so it may connect to the public RPC URL.
      // upgrade-insecure-requests only behind a TLS proxy: on plain http off loopback it would break the page.
      contentSecurityPolicy: {
        directives: { "connect-src": ["'self'", new URL(publicRpc).origin], "upgrade-insecure-requests": config.TRUST_PROXY ? [] : null },
      },
    }),
  );

  app.use(
    "/api",
    rateLimit({
      windowMs: 60_000,
      limit: config.RATE_LIMIT_PER_MINUTE,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      handler: (_req, res) => {
        res.status(429).json({
          error: {
            code: "rate_limited",
            message: `more than ${config.RATE_LIMIT_PER_MINUTE} requests a minute from this client; slow down`,
          },
        });
      },
    }),
  );
  // Sign-in has its own, tighter rate per client: every verification may open a session for any key.
  app.use(
    ["/api/auth/nonce", "/api/auth/verify"],
    rateLimit({
      windowMs: 60_000,
      limit: config.SIGN_INS_PER_MINUTE,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      handler: (_req, res) => {
        res.status(429).json({
          error: {
            code: "rate_limited",
            message: `more than ${config.SIGN_INS_PER_MINUTE} sign-in requests a minute from this client; slow down`,
          },
        });
      },
    }),
  );
  app.use(sameOriginJson(deps));
  app.use(express.json({ limit: config.BODY_LIMIT }));

  // Resolve the caller (cookie or bearer token) and read its roles from the chain. A scraper's
  // METRICS_TOKEN is no session: it is recognised here, before any database read, so the service stays
  // observable through a database outage; only a "session-or-scraper" route (/metrics) accepts it.
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    if (isMetricsScraper(req, config.METRICS_TOKEN)) {
      res.locals.metricsScraper = true;
      return next();
    }
    const resolved = await resolveSession(req, deps.sessions);
    if (resolved) {
      // A halted index means the node serves another chain: its roles are not this network's.
      const identity = deps.indexer.halted() ? { roles: 0, operator: false } : await deps.authority.identityOf(resolved.stored.address);
      res.locals.sessionToken = resolved.token;
      res.locals.sessionExpiresAt = resolved.stored.expiresAt;
      res.locals.session = { address: resolved.stored.address, roles: identity.roles, operator: identity.operator };
    }
    next();
  });

  // After a change of chain identity, chain data is not served (503 with the reason) until an operator
  // acts; what is not derived from the chain (access log, applications, documents) stays readable.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const halted = deps.indexer.halted();
    if (!halted || !req.path.startsWith("/api/") || servedWhileHalted(req)) return next();
    next(new ChainError(halted));
  });

  const table = new RouteTable(express.Router());
  const ctx: RouteContext = { deps, table, authorizer: createAuthorizer(deps), latency };
  mountSystemRoutes(ctx);
  mountAuthRoutes(ctx);
  mountEnterpriseRoutes(ctx);
  mountLenderRoutes(ctx);
  mountLoanRoutes(ctx);
  mountParticipantRoutes(ctx);
  for (const mount of modules) mount(ctx);
  // OPTIONS: no body and no CORS headers (this API serves no cross-origin caller), the route's methods in Allow.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== "OPTIONS") return next();
    const methods = allowedMethods(table, req.path);
    if (methods.length === 0) return next();
    res.setHeader("Allow", ["OPTIONS", ...methods].join(", "));
    res.status(204).end();
  });
  app.use(table.router);

  // Unknown routes answer JSON too (the web UI's static files, when served, are mounted before this).
  app.use((req: Request) => {
    throw new NotFoundError(`no route ${req.method} ${req.path}`);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body, retryAfterSeconds } = toErrorResponse(err);
    if (status >= 500) req.log?.error({ err }, "request failed");
    if (res.headersSent) return;
    if (retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(retryAfterSeconds));
    res.status(status).json(body);
  });

  return app;
}

/** Whether the request's bearer token is the configured METRICS_TOKEN (compared in constant time). */
function isMetricsScraper(req: Request, metricsToken: string | undefined): boolean {
  const auth = req.headers.authorization;
  if (!metricsToken || !auth?.startsWith("Bearer ")) return false;
  const digest = (t: string) => createHash("sha256").update(t).digest();
  return timingSafeEqual(digest(auth.slice(7).trim()), digest(metricsToken));
}

const OFF_CHAIN_READS = [
  /^\/api\/(config|openapi\.json|metrics\/definitions|auth\/me|auth\/nonce)$/,
  /^\/api\/enterprises\/[^/]+\/access-log$/,
  /^\/api\/applications(\/[^/]+(\/agreement-document)?)?$/,
  /^\/api\/documents(\/[^/]+)?$/,
];

/** Requests answered from records that are not derived from the chain. */
function servedWhileHalted(req: Request): boolean {
  if (req.path.startsWith("/api/auth/")) return true;
  return req.method === "GET" && OFF_CHAIN_READS.some((re) => re.test(req.path));
}

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** Routes that take raw file bytes instead of JSON (still same-origin only). */
const RAW_BODY_ROUTES = new Set(["/api/documents", "/api/evidence/file"]);
const SESSION_COOKIE_RE = /(?:^|;)\s*scf_session=/;

/**
 * Cross-site request refusal for state-changing requests: a browser's Origin must be this service
 * (the Host it addressed, or a configured SIWE domain); a request authenticated by the session cookie
 * must carry one; and a body must be JSON (except the two raw-upload routes), so no HTML form or
 * `text/plain` request can act for a signed-in user. Bearer-token clients send no cookie and need no Origin.
 */
function sameOriginJson(deps: AppDeps) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!STATE_CHANGING.has(req.method)) return next();
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (!host || !(host === req.headers.host || deps.siweDomains().includes(host))) {
        return next(
          new ApiError(
            403,
            "cross_origin",
            "this request comes from another origin; the API acts only for pages it served itself",
            "origin",
          ),
        );
      }
    } else if (!req.headers.authorization?.startsWith("Bearer ") && SESSION_COOKIE_RE.test(req.headers.cookie ?? "")) {
      return next(new ApiError(403, "cross_origin", "a request made with the session cookie must carry this service's Origin", "origin"));
    }
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
    if (hasBody && !RAW_BODY_ROUTES.has(req.path) && !req.is("application/json")) {
      return next(new ApiError(415, "unsupported_media_type", "send the request body as JSON (Content-Type: application/json)", "body"));
    }
    next();
  };
}

/**
 * The HTTP server for the app, with its requests and responses created with express's own prototypes
 * (`app.request`, `app.response`). Express otherwise re-parents each one as it arrives
 * (`Object.setPrototypeOf` in `app.handle`), and in V8 a re-parented request keeps its whole object
 * graph (router closures, headers, the request's logger) alive through young-generation collections,
 * to be promoted to the old generation and found dead at the next full collection: 29-36 KB per request
 * in the service before, 4-11 KB after (README, bench:api, "Why each request's objects outlived it").
 * With the prototype already right, express's `setPrototypeOf` changes nothing.
 */
export function createHttpServer(app: Express): http.Server {
  return http.createServer(
    {
      IncomingMessage: bornWith(http.IncomingMessage, app.request) as typeof http.IncomingMessage,
      ServerResponse: bornWith(http.ServerResponse, app.response) as typeof http.ServerResponse,
    },
    app,
  );
}

/** One threshold and one brotli quality (the middleware's defaults) for JSON answers and everything else. */
const COMPRESSION = { threshold: 1024, brotli: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } } };

/**
 * JSON answers compressed in one synchronous call when the client accepts gzip or brotli, with their
 * Content-Length. The compression middleware streams each answer through a zlib stream of its own (a
 * native compressor set up per response, its work on the thread pool): for a metrics read, about 0.4 ms
 * more CPU and 6 ms more latency at the median than no compression (`npm run bench:api` with
 * Accept-Encoding), where compressing a 10 KB answer at once takes about 0.1 ms.
 */
function compressJsonAnswers(app: Express): void {
  const send = app.response.send;
  app.response.send = function sendJsonCompressed(this: Response, body?: unknown) {
    const type = String(this.get("Content-Type") ?? "");
    if (typeof body !== "string" || !/^application\/([\w.-]+\+)?json\b/i.test(type)) return send.call(this, body);
    this.vary("Accept-Encoding");
    const encoding = this.req.headers["accept-encoding"] ? this.req.acceptsEncodings("gzip", "br") : false;
    const compress =
      (encoding === "gzip" || encoding === "br") &&
      this.statusCode >= 200 &&
      this.statusCode < 300 &&
      this.statusCode !== 204 &&
      !/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(String(this.get("Cache-Control") ?? "")) &&
      Buffer.byteLength(body) >= COMPRESSION.threshold;
    if (!compress) return send.call(this, body);
    if (!/;\s*charset=/i.test(type)) this.set("Content-Type", `${type}; charset=utf-8`);
    this.set("Content-Encoding", encoding);
    return send.call(this, encoding === "gzip" ? gzipSync(body) : brotliCompressSync(body, COMPRESSION.brotli));
  } as typeof send;
}

/** A constructor that builds what `Base` builds, with `prototype` as the new object's prototype. */
function bornWith(Base: new (...args: never[]) => object, prototype: object): unknown {
  // Reflect.construct takes the prototype from the new target, whether Base is a class or a function.
  function Born(...args: unknown[]): object {
    return Reflect.construct(Base, args, Born) as object;
  }
  Born.prototype = prototype;
  return Born;
}

/** The methods the route table declares for a concrete path ("/api/applications/x/withdraw" -> POST). */
function allowedMethods(table: RouteTable, path: string): string[] {
  const methods = new Set<string>();
  for (const spec of table.specs) {
    const pattern = new RegExp(`^${spec.path.replace(/[.]/g, "\\.").replace(/:\w+/g, "[^/]+")}/?$`);
    if (pattern.test(path)) methods.add(spec.method.toUpperCase());
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}

/** Maps any thrown value to the API's error shape. */
export function toErrorResponse(err: unknown): {
  status: number;
  body: { error: { code: string; message: string; field?: string } };
  /** For Retry-After: the answer is worth asking again this soon. */
  retryAfterSeconds?: number;
} {
  if (err instanceof ApiError) return { status: err.status, body: err.toJSON(), retryAfterSeconds: err.retryAfterSeconds };
  // A write that found the disk full: nothing was acknowledged, say why (any store, any route).
  if (isStorageFull(err)) return toErrorResponse(new StorageFullError("the request's data", err));
  // The database (DATABASE_URL) could not be reached or dropped the connection: not acknowledged, retryable.
  if (isDatabaseUnavailable(err)) return toErrorResponse(new DatabaseUnavailableError({ cause: err }));
  // The node did not answer in time (RPC_TIMEOUT_MS) or could not be reached: retryable, not a bug.
  if (err instanceof BaseError && err.walk((e) => e instanceof TimeoutError || e instanceof HttpRequestError) !== null) {
    return toErrorResponse(new ChainError("the chain node did not answer in time; try again"));
  }
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    const field = issue.path.map(String).join(".");
    return {
      status: 400,
      body: {
        error: { code: "invalid_input", message: field ? `${field}: ${issue.message}` : issue.message, ...(field ? { field } : {}) },
      },
    };
  }
  const e = err as { type?: string; status?: number; expose?: boolean; message?: string };
  if (e?.type === "entity.too.large")
    return { status: 413, body: { error: { code: "payload_too_large", message: "request body is larger than the limit" } } };
  if (e?.type === "entity.parse.failed")
    return { status: 400, body: { error: { code: "invalid_json", message: "request body is not valid JSON", field: "body" } } };
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) {
    return { status: e.status, body: { error: { code: "bad_request", message: e.expose && e.message ? e.message : "bad request" } } };
  }
  return { status: 500, body: { error: { code: "internal", message: "internal error" } } };
}
