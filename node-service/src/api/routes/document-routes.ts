/**
 * The documents and evidence routes of a document service, mounted on the API with their OpenAPI
 * descriptions: `modules: [documentAndEvidenceRoutes(docs), ...]` in createApp.
 */
import { z } from "zod";
import type { DocumentService } from "../../documents/service";
import type { Timestamps } from "../../evidence/timestamper";
import type { RouteModule } from "../app";
import type { RouteSpec } from "../route";
import { createDocumentsRouter } from "./documents";
import { createEvidenceRouter } from "./evidence";

const idParam = (name: string, what: string) => z.object({ [name]: z.string().describe(what) });
/** The documents and evidence routers, described for the OpenAPI document (their handlers validate with zod themselves). */
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
  {
    method: "get",
    path: "/api/evidence/:sha256",
    summary: "Anchors of a sha256, re-read from the chain",
    tag: "evidence",
    auth: "public",
    params: idParam("sha256", "0x-hex sha256"),
    errors: [400],
  },
  {
    method: "post",
    path: "/api/evidence/file",
    summary: "Anchors of an uploaded file (hashed server side)",
    tag: "evidence",
    auth: "public",
    errors: [400, 413],
  },
  {
    method: "get",
    path: "/api/evidence/agreement/:id",
    summary: "A loan agreement: typed data, signatures, recovered signers, history",
    tag: "evidence",
    auth: "public",
    params: idParam("id", "Loan id or agreement digest"),
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/evidence/order/:id",
    summary: "An order's on-chain history (a member's session; rate-limited per account; access-logged for its parties)",
    tag: "evidence",
    auth: "session",
    params: idParam("id", "Order id"),
    errors: [400, 401, 403, 404, 429],
  },
  {
    method: "get",
    path: "/api/evidence/receivable/:id",
    summary:
      "A receivable: its order, acknowledgment, pledges and payments (a member's session; rate-limited per account; access-logged for its parties)",
    tag: "evidence",
    auth: "session",
    params: idParam("id", "Receivable id"),
    errors: [400, 401, 403, 404, 429],
  },
  {
    method: "get",
    path: "/api/evidence/tx/:hash",
    summary: "The network's events in one transaction",
    tag: "evidence",
    auth: "public",
    params: idParam("hash", "Transaction hash"),
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/evidence/bundle/:kind/:id",
    summary:
      "A self-contained evidence bundle that scripts/verify-evidence.ts checks against any node (order and receivable bundles: a member's session, as their lookups)",
    tag: "evidence",
    auth: "public",
    params: z.object({ kind: z.enum(["agreement", "document", "receivable", "order"]), id: z.string() }),
    errors: [400, 404],
  },
];

/** `timestamps`: the RFC 3161 tokens evidence bundles carry (server.ts opens them when TSA_URL is set). */
export function documentAndEvidenceRoutes(docs: DocumentService, timestamps?: Timestamps): RouteModule {
  return (ctx) => {
    const deps = { index: ctx.deps.index, publicClient: docs.publicClient, deployment: docs.deployment };
    ctx.table.router.use(
      createDocumentsRouter({
        ...deps,
        store: docs.store,
        batcher: docs.batcher,
        maxBytes: docs.maxBytes,
        authority: ctx.deps.authority,
        accessLog: ctx.deps.accessLog,
      }),
    );
    ctx.table.router.use(
      createEvidenceRouter({
        ...deps,
        documents: docs.store,
        timestamps,
        participantNames: docs.participantNames,
        maxBytes: docs.maxBytes,
        accessLog: ctx.deps.accessLog,
        tradeLookupsPerMinute: ctx.deps.config.TRADE_LOOKUPS_PER_MINUTE,
      }),
    );
    for (const spec of DOCUMENT_AND_EVIDENCE_ROUTES) ctx.table.describe(spec);
  };
}
