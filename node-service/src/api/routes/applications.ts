/**
 * /api/applications and /api/events: thin routes over ApplicationService, declared in the route
 * table (validated, documented in OpenAPI, timed). Rules live in the service; answers pass through
 * toJsonSafe, so amounts leave as decimal strings.
 */
import { z } from "zod";
import { isHex } from "viem";
import type { ApplicationService } from "../../applications/service";
import type { ApplicationRecord } from "../../applications/types";
import { ENDED_STATUSES, FORM_RECEIVABLES, MAX_COLLATERAL, STEPS, STEP_LABELS } from "../../applications/types";
import { decisionFromJson } from "../../underwriting/decide";
import { describeDecisionReasons, explainDecision } from "../../underwriting/explain";
import { describeFlag, type RiskFlag } from "../../risk/screen";
import { policyByVersion } from "../../underwriting/policy";
import { toJsonSafe } from "../../domain/json";
import type { Session } from "../../domain/session";
import type { Address } from "../../domain/entities";
import type { RouteModule } from "../app";
import { requireSession, scopeMask, type Authorizer, type ScopeName } from "../authorize";
import { ROLE } from "../../chain/eip712";
import { address } from "../schemas";
import { ValidationError } from "../../domain/errors";
import { visibleMetrics } from "./enterprises";

/** What the decision snapshot in a record carries of the borrower: served to others only under these scopes. */
const SNAPSHOT_SCOPES: ScopeName[] = ["metrics", "riskFlags", "receivables"];
const SNAPSHOT_MASK = scopeMask(SNAPSHOT_SCOPES);
/** How often an open event stream checks that its session and the consents it relied on still hold. */
export const STREAM_CHECK_MS = 1000;

const amount = z
  .string()
  .regex(/^[1-9][0-9]{0,27}$/, "must be a positive whole number of minor units, as a decimal string")
  .transform((v) => BigInt(v));
const reason = z.string().trim().min(3, "a reason of at least 3 characters is required").max(2000);
const receivableId = z.string().regex(/^[1-9][0-9]{0,77}$/, "receivable ids are positive integers");
const IdParams = z.object({ id: z.uuid("must be an application id (a UUID)") });

export const CreateApplicationBody = z.object({
  amount: amount.describe("Loan amount in minor units"),
  termDays: z.number().int().min(1).max(3650).describe("Term in days"),
  lender: address.describe("The lender asked"),
  receivableIds: z
    .array(receivableId)
    .min(1, "choose at least one receivable to pledge")
    .max(MAX_COLLATERAL, `at most ${MAX_COLLATERAL} receivables per loan`)
    .optional()
    .describe("Receivables to pledge (at least one); omitted: the service's preselection"),
  scopes: z.number().int().min(1).max(0x7ff).describe("Consent scope bits the borrower grants the lender"),
});
export const QuoteBody = z.object({
  amount: amount.optional().describe("Loan amount in minor units; default: the limit of the chosen receivables"),
  termDays: z.number().int().min(1).max(3650).describe("Term in days"),
  lender: address.optional().describe("The lender to be asked"),
  receivableIds: z
    .array(receivableId)
    .min(1, "choose at least one receivable to pledge")
    .max(MAX_COLLATERAL, `at most ${MAX_COLLATERAL} receivables per loan`)
    .describe("Receivables to pledge"),
});
export const ReviewBody = z
  .object({
    outcome: z.enum(["approve", "decline", "change_terms"]),
    reason,
    amount: amount.optional().describe("change_terms: the new amount in minor units, never above what the borrower asked"),
    rateBps: z
      .number("must be a whole number of basis points a year")
      .int("must be a whole number of basis points a year")
      .min(0)
      .max(10_000)
      .optional()
      .describe("change_terms (required): the annual rate in basis points, within the policy's pricing range"),
    termDays: z.number().int().min(1).max(3650).optional(),
    overrideLimit: z
      .object({ reason: z.string().trim().min(10, "an override of the limit needs a reason of at least 10 characters").max(2000) })
      .optional()
      .describe("Required to approve above the decision's limit: the reviewer's reason, shown to both parties as an override"),
  })
  .refine((b) => b.outcome !== "change_terms" || b.rateBps !== undefined, {
    message: "approving with changed terms needs the rate (rateBps)",
    path: ["rateBps"],
  });
const DeclineBody = z.object({ reason });
const WithdrawBody = z.object({ reason: z.string().trim().max(2000).optional() });
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

/**
 * The record as the API shows it, with the step labels and where it stands on the 12 steps. A debtor's
 * metrics never leave (a snapshot taken before debtors were kept as tiers still holds them): the
 * decision's collateral lines carry each debtor's tier and advance rate, which is all the policy used.
 */
export function presentApplication(app: ApplicationRecord) {
  const reached = new Set(app.timeline.map((t) => t.step));
  const input = app.decisionInput as Record<string, unknown> | undefined;
  // The steps reached, in the order they happened; then the ones still ahead, in their usual order. An
  // ended application has no next step: what it did not reach is "not_reached".
  const order = (step: string) => app.timeline.findIndex((t) => t.step === step);
  const ended = ENDED_STATUSES.has(app.status);
  const done = STEPS.filter((s) => reached.has(s)).sort((a, b) => order(a) - order(b));
  const ahead = STEPS.filter((s) => !reached.has(s));
  const steps = [...done, ...ahead].map((step) => ({
    index: STEPS.indexOf(step) + 1,
    step,
    label: STEP_LABELS[step],
    done: reached.has(step),
    state: reached.has(step) ? "done" : ended ? "not_reached" : step === ahead[0] ? "next" : "todo",
  }));
  // The decision's reads are in the enterprises' access logs; the record keeps them for that log only.
  const { decisionReads: _reads, ...shown } = app;
  return toJsonSafe({
    ...shown,
    // Older records did not keep the request apart: without a reviewer's change the amount is still it.
    requested: app.requested ?? (app.review?.amount === undefined ? { amount: app.amount, termDays: app.termDays } : undefined),
    ...(input ? { decisionInput: presentInput(input) } : {}),
    ...(app.decision ? { explanation: explanationOf(app), decisionReasons: decisionReasonsOf(app) } : {}),
    ...(app.status === "in_review" && app.decision ? { reviewBounds: reviewBoundsOf(app) } : {}),
    steps,
    timeline: app.timeline.map((t) => ({ ...t, label: STEP_LABELS[t.step], iso: new Date(t.at * 1000).toISOString() })),
  });
}

/**
 * The record for `session`. The borrower sees it whole. To anyone else (its lender, the operator) the
 * decision snapshot (the borrower's metric values, risk-flag events, receivables) is served only while
 * the borrower's consent covers it (checked on chain; a suspended lender has none) and each such read
 * is access-logged for the borrower; otherwise the record keeps the decision (score, reasons, input
 * hash) and says what is withheld. Returns whether consent-scoped data was served.
 */
export async function presentApplicationFor(
  authorizer: Authorizer,
  session: Session,
  app: ApplicationRecord,
  ctx: { resource: string; requestId?: string },
): Promise<{ body: Record<string, unknown>; relied: boolean }> {
  const body = presentApplication(app) as Record<string, unknown>;
  const input = body.decisionInput as { metrics?: Record<string, unknown> } | undefined;
  if (session.address === app.borrower || !input) return { body, relied: false };
  const grant = await authorizer.tryEnterpriseRead(session, app.borrower, SNAPSHOT_SCOPES, { ...ctx, applicationId: app.id });
  if (!grant) {
    delete body.decisionInput;
    return {
      body: {
        ...body,
        withheld: { decisionInput: "the borrower's consent to you is not in force (revoked, expired, or you are suspended)" },
      },
      relied: false,
    };
  }
  const { values, hidden } = visibleMetrics(input.metrics ?? {}, grant.scopes);
  body.decisionInput = { ...input, metrics: values };
  return { body: hidden ? { ...body, withheld: { metrics: hidden } } : body, relied: true };
}

/**
 * The stored input as shown: without the debtors' metrics, and each risk flag with its summary as a
 * message code and parameters beside the English (`text`, see describeFlag; not part of the stored
 * input or its hash). It is withheld with the rest of the input when the borrower's consent is not in force.
 */
function presentInput(input: Record<string, unknown>) {
  const shown = Object.fromEntries(Object.entries(input).filter(([key]) => key !== "debtors"));
  if (Array.isArray(shown.flags)) shown.flags = (shown.flags as RiskFlag[]).map((f) => ({ ...f, text: describeFlag(f) }));
  return shown;
}

/** The record's decision and the policy it names; undefined for a policy version this service does not know. */
function decisionWithPolicy(app: ApplicationRecord) {
  const decision = decisionFromJson(app.decision);
  try {
    return { decision, policy: policyByVersion(decision.policyVersion) };
  } catch {
    return undefined;
  }
}

/** The decision in plain words (reasons, indicator values, thresholds, what would change it), under the policy it names. */
function explanationOf(app: ApplicationRecord) {
  const known = decisionWithPolicy(app);
  return known && explainDecision(known.decision, known.policy, { asked: BigInt(app.requested?.amount ?? app.amount) });
}

/** decision.reasons as message codes with parameters, same order (the lender's score table in the reader's language). */
function decisionReasonsOf(app: ApplicationRecord) {
  const known = decisionWithPolicy(app);
  return (
    known &&
    describeDecisionReasons(known.decision, known.policy, {
      asked: BigInt(app.requested?.amount ?? app.amount),
      termDays: app.requested?.termDays ?? app.termDays,
    })
  );
}

/** What a reviewer may approve (the service enforces the same): shown by the review form before submitting. */
function reviewBoundsOf(app: ApplicationRecord) {
  const known = decisionWithPolicy(app);
  if (!known) return undefined;
  const { decision, policy } = known;
  const rates = policy.pricing.bands.map((b) => b.rateBps);
  return {
    maxAmount: app.requested?.amount ?? app.amount,
    limit: decision.limit,
    minAmount: policy.minAmount,
    minRateBps: Math.min(...rates),
    maxRateBps: Math.max(...rates),
    maxTermDays: policy.maxTermDays,
  };
}

export function applicationRoutes(service: ApplicationService): RouteModule {
  return ({ table, authorizer, deps }) => {
    const tag = "applications";
    const errors = [400, 401, 403, 404, 409];
    const present = (res: { req: { id?: unknown }; locals: Record<string, unknown> }, app: ApplicationRecord, resource: string) =>
      presentApplicationFor(authorizer, res.locals.session as Session, app, { resource, requestId: String(res.req.id) }).then(
        (p) => p.body,
      );

    table.add(
      {
        method: "get",
        path: "/api/applications/prefill",
        summary: "What the application form shows, prefilled from the chain",
        tag,
        auth: "session",
        errors: [401],
      },
      async ({ res }) => service.prefill(requireSession(res).address),
    );

    table.add(
      {
        method: "get",
        path: "/api/applications/receivables",
        summary: `The application form's next page: the borrower's next ${FORM_RECEIVABLES} pledgeable receivables by id after \`after\``,
        tag,
        auth: "session",
        query: z.object({ after: receivableId.describe("The last id of the page before (`next` of the prefill or of a page)") }),
        errors: [400, 401],
      },
      async ({ query, res }) => service.formReceivables(requireSession(res).address, query.after),
    );

    table.add(
      {
        method: "post",
        path: "/api/applications/quote",
        summary:
          "The price before applying: limit, rate, fees and total due at maturity the policy would give these terms now (nothing is stored)",
        tag,
        auth: "session",
        body: QuoteBody,
        errors: [400, 401, 403],
      },
      async ({ body, res }) => service.quote(requireSession(res), body),
    );

    table.add(
      {
        method: "post",
        path: "/api/applications",
        summary:
          "Apply for a loan in five fields (borrower); an optional Idempotency-Key header makes retries return the first application",
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
        return present(res, app, "POST /api/applications");
      },
    );

    table.add(
      {
        method: "get",
        path: "/api/applications",
        summary: "The caller's applications (a lender's queue with role=lender)",
        tag,
        auth: "session",
        query: ListQuery,
        errors: [400, 401],
      },
      async ({ query, res }) => {
        const session = requireSession(res);
        const apps = service
          .list(session, { status: query.status })
          .filter((a) => !query.role || (query.role === "borrower" ? a.borrower : a.lender) === session.address);
        const applications = [];
        for (const app of apps) applications.push(await present(res, app, "GET /api/applications"));
        return { applications };
      },
    );

    table.add(
      {
        method: "get",
        path: "/api/applications/:id",
        summary: "One application with its timeline (borrower, lender, operator)",
        tag,
        auth: "session",
        params: IdParams,
        errors: [400, 401, 404],
      },
      ({ params, res }) => present(res, service.get(requireSession(res), params.id), "GET /api/applications/:id"),
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
      async ({ params, body, res }) =>
        present(res, await service.review(requireSession(res), params.id, body), "POST /api/applications/:id/review"),
    );

    table.add(
      {
        method: "post",
        path: "/api/applications/:id/contest",
        summary: "The borrower contests an automatic decline",
        tag,
        auth: "session",
        params: IdParams,
        body: ContestBody,
        errors,
      },
      async ({ params, body, res }) =>
        present(res, await service.contest(requireSession(res), params.id, body.reason), "POST /api/applications/:id/contest"),
    );

    table.add(
      {
        method: "post",
        path: "/api/applications/:id/withdraw",
        summary: "The borrower withdraws, at any step before the agreement is recorded on chain (optional reason)",
        tag,
        auth: "session",
        params: IdParams,
        body: WithdrawBody,
        errors,
      },
      async ({ params, body, res }) =>
        present(
          res,
          await service.withdraw(requireSession(res), params.id, body.reason || undefined),
          "POST /api/applications/:id/withdraw",
        ),
    );

    table.add(
      {
        method: "post",
        path: "/api/applications/:id/decline",
        summary: "The named lender declines, with a reason, at any step before the agreement is recorded on chain",
        tag,
        auth: "session",
        params: IdParams,
        body: DeclineBody,
        errors,
      },
      async ({ params, body, res }) =>
        present(res, await service.decline(requireSession(res), params.id, body.reason), "POST /api/applications/:id/decline"),
    );

    table.add(
      {
        method: "get",
        path: "/api/applications/:id/offer",
        summary: "The offer's exact EIP-712 typed data, for both parties to sign",
        tag,
        auth: "session",
        params: IdParams,
        errors,
      },
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
      async ({ params, body, res }) =>
        present(
          res,
          await service.submitSignature(requireSession(res), params.id, body.signature),
          "POST /api/applications/:id/signatures",
        ),
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
        const token = String(res.locals.sessionToken);
        res.writeHead(200, {
          "Content-Type": "text/event-stream",
          "Cache-Control": "no-cache, no-transform",
          Connection: "keep-alive",
          "X-Accel-Buffering": "no",
        });
        res.write(": connected\n\n");
        // Borrowers whose consent-scoped data this stream has carried: when one's consent ends, the stream does.
        const relied = new Set<Address>();
        let closed = false;
        let sending: Promise<unknown> = Promise.resolve();
        const end = (reason: string) => {
          if (closed) return;
          closed = true;
          res.write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
          res.end();
        };
        const onUpdate = (app: ApplicationRecord) => {
          if (!session.operator && app.borrower !== session.address && app.lender !== session.address) return;
          // One at a time, in order; each record is presented (and access-logged) for this session as it goes out.
          sending = sending
            .then(async () => {
              if (closed) return;
              if (!(await deps.sessions.get(token))) return end("session_ended");
              const { body, relied: usedConsent } = await presentApplicationFor(authorizer, session, app, {
                resource: "GET /api/events",
                requestId: String(req.id),
              });
              if (closed) return;
              if (!usedConsent && relied.has(app.borrower)) return end("consent_ended");
              if (usedConsent && !session.operator) relied.add(app.borrower);
              res.write(`event: application\ndata: ${JSON.stringify(body)}\n\n`);
            })
            .catch(() => end("error"));
        };
        service.on("update", onUpdate);
        const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
        // The session (logout, expiry) and the consents relied on (revocation, expiry, the lender's suspension)
        // are checked between updates too: the consents from the API's per-block consent state (no chain
        // read per stream), the lender's roles from its role cache (forgotten on any ParticipantRegistry event).
        let checking = false;
        const check = setInterval(() => {
          void deps.sessions.get(token).then(
            (live) => live || end("session_ended"),
            () => end("error"),
          );
          if (checking || relied.size === 0) return;
          checking = true;
          void (async () => {
            const identity = await deps.authority.identityOf(session.address);
            for (const borrower of relied) {
              const consent = await deps.authority.consentInForce(borrower, session.address);
              if ((consent.scopes & SNAPSHOT_MASK) !== SNAPSHOT_MASK || (identity.roles & ROLE.LENDER) === 0) return end("consent_ended");
            }
          })()
            .catch(() => end("error"))
            .finally(() => (checking = false));
        }, STREAM_CHECK_MS);
        req.on("close", () => {
          closed = true;
          clearInterval(keepAlive);
          clearInterval(check);
          service.off("update", onUpdate);
        });
        res.on("finish", () => {
          clearInterval(keepAlive);
          clearInterval(check);
          service.off("update", onUpdate);
        });
        return undefined;
      },
    );
  };
}
