/**
 * /api/applications and /api/events: thin routes over ApplicationService, declared in the route
 * table (validated, documented in OpenAPI, timed). Rules live in the service; answers pass through
 * toJsonSafe, so amounts leave as decimal strings.
 */
import { z } from "zod";
import { isHex } from "viem";
import type { ApplicationService } from "../../applications/service";
import type { ApplicationRecord } from "../../applications/types";
import { STEPS, STEP_LABELS } from "../../applications/types";
import { toJsonSafe } from "../../domain/json";
import type { RouteModule } from "../app";
import { requireSession } from "../authorize";
import { address } from "../schemas";
import { ValidationError } from "../../domain/errors";

const amount = z
  .string()
  .regex(/^[1-9][0-9]{0,27}$/, "must be a positive whole number of minor units, as a decimal string")
  .transform((v) => BigInt(v));
const reason = z.string().trim().min(3, "a reason of at least 3 characters is required").max(2000);
const IdParams = z.object({ id: z.uuid("must be an application id (a UUID)") });

export const CreateApplicationBody = z.object({
  amount: amount.describe("Loan amount in minor units"),
  termDays: z.number().int().min(1).max(3650).describe("Term in days"),
  lender: address.describe("The lender asked"),
  receivableIds: z
    .array(z.string().regex(/^[1-9][0-9]*$/, "receivable ids are positive integers"))
    .max(10)
    .optional()
    .describe("Receivables to pledge; default: the service's preselection"),
  scopes: z.number().int().min(1).max(0x7ff).describe("Consent scope bits the borrower grants the lender"),
});
export const ReviewBody = z
  .object({
    outcome: z.enum(["approve", "decline", "change_terms"]),
    reason,
    amount: amount.optional(),
    rateBps: z.number().int().min(0).max(10_000).optional(),
    termDays: z.number().int().min(1).max(3650).optional(),
  })
  .refine((b) => b.outcome !== "change_terms" || b.amount !== undefined || b.rateBps !== undefined || b.termDays !== undefined, {
    message: "change_terms needs at least one of amount, rateBps, termDays",
    path: ["outcome"],
  });
const ContestBody = z.object({ reason });
/** Optional header of POST /api/applications: a retry with the same key returns the first application. */
const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, "must be 1 to 255 visible ASCII characters")
  .optional();
const SignatureBody = z.object({
  signature: z
    .string()
    .refine((v) => isHex(v) && v.length >= 132, "must be a 0x-hex signature")
    .transform((v) => v as `0x${string}`),
});
const ListQuery = z.object({
  status: z.string().max(40).optional().describe("Only applications in this status"),
  role: z.enum(["borrower", "lender"]).optional().describe("Only where the caller is the borrower, or the lender"),
});

/** The record as the API shows it, with the step labels and where it stands on the 12 steps. */
export function presentApplication(app: ApplicationRecord) {
  const reached = new Set(app.timeline.map((t) => t.step));
  return toJsonSafe({
    ...app,
    steps: STEPS.map((step, i) => ({ index: i + 1, step, label: STEP_LABELS[step], done: reached.has(step) })),
    timeline: app.timeline.map((t) => ({ ...t, label: STEP_LABELS[t.step], iso: new Date(t.at * 1000).toISOString() })),
  });
}

export function applicationRoutes(service: ApplicationService): RouteModule {
  return ({ table }) => {
    const tag = "applications";
    const errors = [400, 401, 403, 404, 409];

    table.add(
      { method: "get", path: "/api/applications/prefill", summary: "What the application form shows, prefilled from the chain", tag, auth: "session", errors: [401] },
      async ({ res }) => service.prefill(requireSession(res).address),
    );

    table.add(
      {
        method: "post",
        path: "/api/applications",
        summary: "Apply for a loan in five fields (borrower); an optional Idempotency-Key header makes retries return the first application",
        tag,
        auth: "session",
        body: CreateApplicationBody,
        errors: [...errors, 507],
      },
      async ({ body, req, res }) => {
        const session = requireSession(res);
        const key = IdempotencyKey.safeParse(req.get("Idempotency-Key"));
        if (!key.success) throw new ValidationError(`Idempotency-Key: ${key.error.issues[0].message}`, "Idempotency-Key");
        const { app, replayed } = await service.create(session, body, key.data);
        if (replayed) res.setHeader("Idempotent-Replayed", "true");
        res.status(201);
        return presentApplication(app);
      },
    );

    table.add(
      { method: "get", path: "/api/applications", summary: "The caller's applications (a lender's queue with role=lender)", tag, auth: "session", query: ListQuery, errors: [400, 401] },
      ({ query, res }) => {
        const session = requireSession(res);
        const apps = service
          .list(session, { status: query.status })
          .filter((a) => !query.role || (query.role === "borrower" ? a.borrower : a.lender) === session.address);
        return { applications: apps.map(presentApplication) };
      },
    );

    table.add(
      { method: "get", path: "/api/applications/:id", summary: "One application with its timeline (borrower, lender, operator)", tag, auth: "session", params: IdParams, errors: [400, 401, 404] },
      ({ params, res }) => presentApplication(service.get(requireSession(res), params.id)),
    );

    table.add(
      {
        method: "post",
        path: "/api/applications/:id/review",
        summary: "The named lender's reviewer approves, declines or changes terms, with a reason",
        tag,
        auth: "session",
        params: IdParams,
        body: ReviewBody,
        errors,
      },
      async ({ params, body, res }) => presentApplication(await service.review(requireSession(res), params.id, body)),
    );

    table.add(
      { method: "post", path: "/api/applications/:id/contest", summary: "The borrower contests an automatic decline", tag, auth: "session", params: IdParams, body: ContestBody, errors },
      async ({ params, body, res }) => presentApplication(await service.contest(requireSession(res), params.id, body.reason)),
    );

    table.add(
      { method: "post", path: "/api/applications/:id/withdraw", summary: "The borrower withdraws before the agreement is recorded", tag, auth: "session", params: IdParams, errors },
      async ({ params, res }) => presentApplication(await service.withdraw(requireSession(res), params.id)),
    );

    table.add(
      { method: "get", path: "/api/applications/:id/offer", summary: "The offer's exact EIP-712 typed data, for both parties to sign", tag, auth: "session", params: IdParams, errors },
      ({ params, res }) => {
        const app = service.get(requireSession(res), params.id);
        return {
          typedData: service.offerTypedData(app),
          digest: app.offer?.digest,
          documentSha256: app.offer?.documentSha256,
          documentUrl: `/api/applications/${app.id}/agreement-document`,
          signatures: app.signatures,
        };
      },
    );

    table.add(
      {
        method: "get",
        path: "/api/applications/:id/agreement-document",
        summary: "The agreement document whose sha256 the offer carries",
        tag,
        auth: "session",
        params: IdParams,
        errors: [400, 401, 404],
        produces: "text/plain",
      },
      ({ params, res }) => {
        const app = service.get(requireSession(res), params.id);
        res.type("text/plain; charset=utf-8");
        res.setHeader("Content-Disposition", `attachment; filename="loan-agreement-${app.id}.txt"`);
        res.send(service.agreementDocument(app));
        return undefined;
      },
    );

    table.add(
      {
        method: "post",
        path: "/api/applications/:id/signatures",
        summary: "A party's EIP-712 signature of the offer; with both, the service records the agreement on chain",
        tag,
        auth: "session",
        params: IdParams,
        body: SignatureBody,
        errors,
      },
      async ({ params, body, res }) => presentApplication(await service.submitSignature(requireSession(res), params.id, body.signature)),
    );

    table.add(
      {
        method: "get",
        path: "/api/events",
        summary: "Server-sent events: every change of an application the caller is party to",
        tag,
        auth: "session",
        errors: [401],
        produces: "text/event-stream",
      },
      ({ req, res }) => {
        const session = requireSession(res);
        res.writeHead(200, {
          "Content-Type": "text/event-stream",
          "Cache-Control": "no-cache, no-transform",
          Connection: "keep-alive",
          "X-Accel-Buffering": "no",
        });
        res.write(": connected\n\n");
        const onUpdate = (app: ApplicationRecord) => {
          if (!session.operator && app.borrower !== session.address && app.lender !== session.address) return;
          res.write(`event: application\ndata: ${JSON.stringify(presentApplication(app))}\n\n`);
        };
        service.on("update", onUpdate);
        const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
        req.on("close", () => {
          clearInterval(keepAlive);
          service.off("update", onUpdate);
        });
        return undefined;
      },
    );
  };
}
