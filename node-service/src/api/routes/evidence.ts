/**
 * /api/evidence: the read API for courts and auditors. Checking what one holds is public (no sign-in):
 * a document by sha256 or by the file itself (hashed here, not stored), an agreement by loan id or
 * digest, a transaction by hash, and their bundles. Walking an enterprise's trade (orders and
 * receivables, whose ids run in sequence) needs a consortium member's session, is rate-limited per
 * account and is access-logged for each party of the record. Every answer is re-read from the chain.
 */
import { Router, type NextFunction, type Request, type Response } from "express";
import { rateLimit } from "express-rate-limit";
import { z } from "zod";
import { BaseError as ViemError, type Hex } from "viem";
import { toJsonSafe } from "../../domain/json";
import { sha256Hex } from "../../domain/hash";
import { createBundleBuilder } from "../../evidence/bundle";
import { BUNDLE_KINDS } from "../../evidence/bundle-format";
import { createEvidenceService, type EvidenceDeps } from "../../evidence/lookup";
import { ChainError, ForbiddenError, TooManyRequestsError } from "../../domain/errors";
import { ROLE } from "../../chain/eip712";
import { partiesOf } from "../../documents/access";
import type { AccessLog } from "../access-log";
import { requireSession } from "../authorize";
import { DEFAULT_MAX_DOCUMENT_BYTES, parseOr400, rawBody, Sha256Param, uploadedBytes } from "./documents";

/** Order and receivable lookups (and their bundles) one account may make a minute. */
export const DEFAULT_TRADE_LOOKUPS_PER_MINUTE = 60;

export interface EvidenceRouterDeps extends EvidenceDeps {
  maxBytes?: number;
  /** Trade lookups are logged for each party of the order or receivable read. */
  accessLog?: Pick<AccessLog, "append">;
  tradeLookupsPerMinute?: number;
}

const Id = z.string().regex(/^[1-9][0-9]{0,19}$/, "must be a positive integer id");
const AgreementId = z.union([Id, z.string().regex(/^0x[0-9a-fA-F]{64}$/)], {
  message: "must be a loan id or a 0x-prefixed EIP-712 digest",
});
const TxHash = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte transaction hash")
  .transform((v) => v.toLowerCase() as Hex);
const Kind = z.enum(BUNDLE_KINDS, { message: `must be one of ${BUNDLE_KINDS.join(", ")}` });

export function createEvidenceRouter(deps: EvidenceRouterDeps): Router {
  const router = Router();
  const evidence = createEvidenceService(deps);
  const { buildBundle } = createBundleBuilder({ ...deps, evidence });

  /** Answers JSON-safe data; a failing node becomes a retryable 503 instead of a 500. */
  function handle(fn: (req: Request, res: Response) => Promise<unknown>) {
    return async (req: Request, res: Response) => {
      let result: unknown;
      try {
        result = await fn(req, res);
      } catch (err) {
        if (err instanceof ViemError) throw new ChainError("could not read the chain to check the evidence", { cause: err });
        throw err;
      }
      if (!res.headersSent) res.json(toJsonSafe(result));
    };
  }

  router.get(
    "/api/evidence/agreement/:id",
    handle((req) => evidence.lookupAgreement(parseOr400(AgreementId, req.params.id, "id"))),
  );
  // Trade: a member's session (an active participant or the operator), a per-account rate, a log entry per party.
  const memberOnly = (req: Request, res: Response, next: NextFunction) => {
    const session = requireSession(res);
    if (session.roles === 0 && !session.operator)
      return next(new ForbiddenError("looking up orders and receivables needs an active consortium member's session"));
    next();
  };
  const perAccount = rateLimit({
    windowMs: 60_000,
    limit: deps.tradeLookupsPerMinute ?? DEFAULT_TRADE_LOOKUPS_PER_MINUTE,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    keyGenerator: (_req, res) => String((res.locals.session as { address: string }).address),
    handler: (_req, _res, next) =>
      next(
        new TooManyRequestsError(
          `more than ${deps.tradeLookupsPerMinute ?? DEFAULT_TRADE_LOOKUPS_PER_MINUTE} order and receivable lookups a minute from this account; slow down`,
        ),
      ),
  });
  const trade = [memberOnly, perAccount];
  async function logTradeRead(req: Request, res: Response, type: "order" | "receivable", id: string, resource: string): Promise<void> {
    const session = requireSession(res);
    const parties = await partiesOf(deps.index(), { type, id });
    const basis = session.operator
      ? "operator"
      : parties.includes(session.address)
        ? "party"
        : (session.roles & ROLE.AUDITOR) !== 0
          ? "auditor"
          : "member";
    for (const enterprise of parties) {
      if (enterprise === session.address) continue;
      await deps.accessLog?.append({
        enterprise,
        reader: session.address,
        basis,
        scopes: [type === "order" ? "orderHistory" : "receivables"],
        resource,
        requestId: String(req.id),
      });
    }
  }

  router.get(
    "/api/evidence/order/:id",
    ...trade,
    handle(async (req, res) => {
      const id = parseOr400(Id, req.params.id, "id");
      const result = await evidence.lookupOrder(id);
      await logTradeRead(req, res, "order", id, "GET /api/evidence/order/:id");
      return result;
    }),
  );
  router.get(
    "/api/evidence/receivable/:id",
    ...trade,
    handle(async (req, res) => {
      const id = parseOr400(Id, req.params.id, "id");
      const result = await evidence.lookupReceivable(id);
      await logTradeRead(req, res, "receivable", id, "GET /api/evidence/receivable/:id");
      return result;
    }),
  );
  router.get(
    "/api/evidence/tx/:hash",
    handle((req) => evidence.lookupTx(parseOr400(TxHash, req.params.hash, "hash"))),
  );
  router.get(
    "/api/evidence/bundle/:kind/:id",
    (req: Request, res: Response, next: NextFunction) => {
      const kind = parseOr400(Kind, req.params.kind, "kind");
      if (kind !== "order" && kind !== "receivable") return next();
      memberOnly(req, res, (err?: unknown) => (err ? next(err) : perAccount(req, res, next)));
    },
    handle(async (req, res) => {
      const kind = parseOr400(Kind, req.params.kind, "kind");
      const id =
        kind === "document"
          ? parseOr400(Sha256Param, req.params.id, "id")
          : kind === "agreement"
            ? parseOr400(AgreementId, req.params.id, "id")
            : parseOr400(Id, req.params.id, "id");
      const bundle = await buildBundle(kind, id);
      if (kind === "order" || kind === "receivable") await logTradeRead(req, res, kind, id, "GET /api/evidence/bundle/:kind/:id");
      res.setHeader("Content-Disposition", `attachment; filename="evidence-${kind}-${id.slice(0, 18)}.json"`);
      return bundle;
    }),
  );
  router.post(
    "/api/evidence/file",
    rawBody(deps.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES),
    handle((req) => evidence.lookupHash(sha256Hex(uploadedBytes(req)))),
  );
  router.get(
    "/api/evidence/:sha256",
    handle((req) => evidence.lookupHash(parseOr400(Sha256Param, req.params.sha256, "sha256"))),
  );

  return router;
}
