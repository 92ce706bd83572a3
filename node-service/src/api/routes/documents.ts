/**
 * /api/documents: upload (signed-in participants; raw body, sniffed, size-limited) and read (metadata,
 * or the file with ?download=1) under the document access rules. A document the caller may not read
 * answers 404 exactly like one that does not exist.
 */
import express, { Router, type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import type { Address, PublicClient } from "viem";
import type { Deployment } from "../../chain/contracts";
import { toJsonSafe } from "../../domain/json";
import { documentReadGrant, partiesOf } from "../../documents/access";
import type { AccessLog } from "../access-log";
import { scopeNames } from "../authorize";
import type { Batcher } from "../../documents/batcher";
import { sniffMime } from "../../documents/sniff";
import { DOCUMENT_KINDS, type DocumentLink, type DocumentRecord, type DocumentStore } from "../../documents/store";
import { ForbiddenError, NotFoundError, PayloadTooLargeError, ValidationError } from "../../domain/errors";
import { requireSession } from "../authorize";
import type { ChainAuthority } from "../../auth/chain-authority";
import type { IndexReader } from "../../store/index-reader";

export const DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

export interface DocumentsRouterDeps {
  store: DocumentStore;
  /** Keyed reads of the index: the parties of a linked record. */
  index: () => IndexReader;
  publicClient: PublicClient;
  deployment: Deployment;
  /** Anchors uploads in Merkle batches; without it uploads wait unanchored. */
  batcher?: Batcher;
  /** The API's consent check, for lenders reading a borrower's documents. */
  authority: ChainAuthority;
  /** Each read of someone else's document is logged for the enterprise whose data it is. */
  accessLog?: Pick<AccessLog, "append">;
  maxBytes?: number;
}

export const Sha256Param = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be a sha256: 64 hex digits, optionally 0x-prefixed")
  .transform((v) => `0x${v.replace(/^0x/, "").toLowerCase()}` as `0x${string}`);

const UploadQuery = z
  .object({
    kind: z.enum(DOCUMENT_KINDS, { message: `must be one of ${DOCUMENT_KINDS.join(", ")}` }),
    linkType: z.enum(["order", "receivable", "loan"]).optional(),
    linkId: z
      .string()
      .regex(/^[1-9][0-9]{0,19}$/, "must be a positive integer id")
      .optional(),
  })
  .refine((q) => (q.linkType === undefined) === (q.linkId === undefined), { message: "linkType and linkId go together", path: ["linkId"] });

const ReadQuery = z.object({ download: z.enum(["0", "1", "true", "false"]).optional() });

/** zod -> ValidationError naming the field. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, prefix = ""): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    throw new ValidationError(`${field || "input"}: ${issue.message}`, field || undefined);
  }
  return result.data;
}

/** express.raw with the size limit turned into the API's 413 and a clear message. */
export function rawBody(maxBytes: number) {
  const raw = express.raw({ type: () => true, limit: maxBytes });
  return (req: Request, res: Response, next: NextFunction) => {
    raw(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number };
      if (e.type === "entity.too.large" || e.status === 413)
        return next(
          new PayloadTooLargeError(`the file is larger than the limit of ${maxBytes} bytes`, {
            textCode: "file_too_large",
            params: { maxBytes: String(maxBytes) },
          }),
        );
      next(new ValidationError("could not read the uploaded file", "file", { textCode: "file_unreadable", params: {} }));
    });
  };
}

export function uploadedBytes(req: Request): Buffer {
  if (!Buffer.isBuffer(req.body)) {
    throw new ValidationError("send the file's bytes as the request body with Content-Type application/octet-stream", "file", {
      textCode: "file_body_required",
      params: {},
    });
  }
  return req.body;
}

export function presentDocument(record: DocumentRecord) {
  return toJsonSafe({
    sha256: record.sha256,
    size: record.size,
    mime: record.mime,
    kinds: [...new Set(record.uploads.map((u) => u.kind))],
    uploads: record.uploads.map((u) => ({ ...u, uploadedAtIso: new Date(u.uploadedAt).toISOString() })),
    anchor: record.batch ? { via: "batch", ...record.batch, atIso: new Date(record.batch.at * 1000).toISOString() } : { via: "pending" },
    purged: record.purgedAt !== undefined,
    ...(record.purgedAt !== undefined ? { purgedAt: new Date(record.purgedAt).toISOString() } : {}),
  });
}

export function createDocumentsRouter(deps: DocumentsRouterDeps): Router {
  const router = Router();
  const maxBytes = deps.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  router.post(
    "/api/documents",
    async (req, res, next) => {
      // Refuse before reading a large body from someone who may not upload at all.
      const s = requireSession(res);
      if (s.roles === 0 && !s.operator) return next(new ForbiddenError("only admitted, active participants may upload documents"));
      next();
    },
    rawBody(maxBytes),
    async (req: Request, res: Response) => {
      const s = requireSession(res);
      const query = parseOr400(UploadQuery, req.query);
      const bytes = uploadedBytes(req);
      const mime = await sniffMime(bytes);
      let link: DocumentLink | undefined;
      if (query.linkType && query.linkId) {
        link = { type: query.linkType, id: query.linkId };
        const parties = await partiesOf(deps.index(), link);
        const linked = { linkType: link.type, linkId: link.id };
        if (parties.length === 0)
          throw new ValidationError(`${link.type} ${link.id} is not known (yet) to the index`, "linkId", {
            textCode: "link_unknown",
            params: linked,
          });
        if (!s.operator && !parties.includes(s.address.toLowerCase() as Address)) {
          throw new ForbiddenError(`you are not a party of ${link.type} ${link.id}`, { textCode: "not_a_party", params: linked });
        }
      }
      const { record, created } = await deps.store.put({ bytes, mime, owner: s.address, kind: query.kind, link });
      deps.batcher?.notify();
      res.status(created ? 201 : 200).json({ created, ...(presentDocument(record) as object) });
    },
  );

  router.get("/api/documents", async (_req, res) => {
    const s = requireSession(res);
    const me = s.address.toLowerCase();
    res.json({
      documents: deps.store
        .list()
        .filter((d) => d.uploads.some((u) => u.owner === me))
        .map(presentDocument),
    });
  });

  router.get("/api/documents/:sha256", async (req, res) => {
    const s = requireSession(res);
    const sha256 = parseOr400(Sha256Param, req.params.sha256, "sha256");
    const query = parseOr400(ReadQuery, req.query);
    const record = deps.store.get(sha256);
    const hidden = new NotFoundError(`no document ${sha256} that you may read`);
    const grant = record ? await documentReadGrant(deps, s, record) : null;
    if (!record || !grant) throw hidden;
    const download = query.download === "1" || query.download === "true";
    // An uploader's own file is its own data; every other read is logged for each enterprise it concerns.
    if (grant.basis !== "owner") {
      for (const enterprise of grant.subjects) {
        await deps.accessLog?.append({
          enterprise,
          reader: s.address,
          basis: grant.basis === "party" || grant.basis === "consent" ? grant.basis : "auditor",
          scopes: ["documents"],
          resource: download ? "GET /api/documents/:sha256?download=1" : "GET /api/documents/:sha256",
          requestId: String(req.id),
          ...(grant.consent
            ? {
                consent: {
                  scopes: scopeNames(grant.consent.grant.scopes),
                  grantedAt: grant.consent.grant.grantedAt,
                  expiresAt: grant.consent.grant.expiresAt,
                  checkedAt: grant.consent.at,
                },
              }
            : {}),
        });
      }
    }
    if (download) {
      const bytes = await deps.store.readContent(sha256);
      if (!bytes) {
        res.status(410).json({
          error: { code: "purged", message: `the file ${sha256} was purged after its retention period; its hash and anchor remain` },
        });
        return;
      }
      res.setHeader("Content-Type", record.mime);
      res.setHeader("Content-Disposition", `attachment; filename="${sha256.slice(2)}"`);
      res.setHeader("X-Content-Type-Options", "nosniff");
      res.send(bytes);
      return;
    }
    res.json(presentDocument(record));
  });

  return router;
}
