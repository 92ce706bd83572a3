/**
 * /api/evidence: the public read API for courts and auditors (no sign-in needed). Lookups by sha256,
 * by an uploaded file (hashed here, not stored), by agreement (loan id or digest), order, receivable
 * or transaction hash, and the downloadable evidence bundle. Every answer is re-read from the chain.
 */
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { BaseError as ViemError, type Hex } from "viem";
import { toJsonSafe } from "../../domain/json";
import { sha256Hex } from "../../domain/hash";
import { createBundleBuilder } from "../../evidence/bundle";
import { BUNDLE_KINDS } from "../../evidence/bundle-format";
import { createEvidenceService, type EvidenceDeps } from "../../evidence/lookup";
import { ChainError } from "../../domain/errors";
import { DEFAULT_MAX_DOCUMENT_BYTES, parseOr400, rawBody, Sha256Param, uploadedBytes } from "./documents";

export interface EvidenceRouterDeps extends EvidenceDeps {
  maxBytes?: number;
}

const Id = z.string().regex(/^[1-9][0-9]{0,19}$/, "must be a positive integer id");
const AgreementId = z.union([Id, z.string().regex(/^0x[0-9a-fA-F]{64}$/)], { message: "must be a loan id or a 0x-prefixed EIP-712 digest" });
const TxHash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte transaction hash").transform((v) => v.toLowerCase() as Hex);
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

  router.get("/api/evidence/agreement/:id", handle((req) => evidence.lookupAgreement(parseOr400(AgreementId, req.params.id, "id"))));
  router.get("/api/evidence/order/:id", handle((req) => evidence.lookupOrder(parseOr400(Id, req.params.id, "id"))));
  router.get("/api/evidence/receivable/:id", handle((req) => evidence.lookupReceivable(parseOr400(Id, req.params.id, "id"))));
  router.get("/api/evidence/tx/:hash", handle((req) => evidence.lookupTx(parseOr400(TxHash, req.params.hash, "hash"))));
  router.get(
    "/api/evidence/bundle/:kind/:id",
    handle(async (req, res) => {
      const kind = parseOr400(Kind, req.params.kind, "kind");
      const id = kind === "document" ? parseOr400(Sha256Param, req.params.id, "id") : kind === "agreement" ? parseOr400(AgreementId, req.params.id, "id") : parseOr400(Id, req.params.id, "id");
      const bundle = await buildBundle(kind, id);
      res.setHeader("Content-Disposition", `attachment; filename="evidence-${kind}-${id.slice(0, 18)}.json"`);
      return bundle;
    }),
  );
  router.post(
    "/api/evidence/file",
    rawBody(deps.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES),
    handle((req) => evidence.lookupHash(sha256Hex(uploadedBytes(req)))),
  );
  router.get("/api/evidence/:sha256", handle((req) => evidence.lookupHash(parseOr400(Sha256Param, req.params.sha256, "sha256"))));

  return router;
}
