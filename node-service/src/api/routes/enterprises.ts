/**
 * An enterprise's data: metrics, orders, receivables, loans (each behind its consent scope), and the
 * access log of who read them. Every read goes through authorizeEnterpriseRead.
 */
import type { Response } from "express";
import { z } from "zod";
import type { Address } from "../../domain/entities";
import { toJsonSafe } from "../../domain/json";
import { ForbiddenError, NotFoundError, ValidationError } from "../../domain/errors";
import { METRIC_DEFINITIONS } from "../../metrics/definitions";
import { SCOPE } from "../../chain/eip712";
import { requireSession, type ScopeName } from "../authorize";
import { EnterpriseParams, Paging, applicationId } from "../schemas";
import type { RouteContext } from "../app";

const READ_ERRORS = [400, 401, 403, 404, 429, 503];
const jsonOfMetrics = new WeakMap<object, unknown>();
/** Block time in seconds up to 2^32 - 1 (year 2106): what a date can hold, and more than any block will. */
const AS_OF = z.coerce.number().int().min(0).max(0xffff_ffff);

/** The metrics of the Counterparties group: served only under the "counterparties" scope. */
export const COUNTERPARTY_METRICS: readonly string[] = METRIC_DEFINITIONS.filter((d) => d.group === "Counterparties").map((d) => d.key);

/** Metric values without the ones the reader's scopes do not cover, and the names of those hidden. */
export function visibleMetrics<T>(values: Record<string, T>, scopes: number): { values: Record<string, T>; hidden?: string[] } {
  if ((scopes & SCOPE.counterparties) !== 0) return { values };
  const hidden = COUNTERPARTY_METRICS.filter((key) => key in values);
  return { values: Object.fromEntries(Object.entries(values).filter(([key]) => !hidden.includes(key))), hidden };
}

export function mountEnterpriseRoutes({ deps, table, authorizer }: RouteContext): void {
  const { enterpriseReads, authority, accessLog } = deps;

  async function knownEnterprise(address: Address): Promise<void> {
    if (!(await enterpriseReads.isParticipant(address)))
      throw new NotFoundError(`${address} is not a registered participant`, {
        textCode: "not_a_participant",
        params: { address },
      });
  }

  async function authorize(res: Response, enterprise: Address, scopes: ScopeName[], resource: string, application?: string) {
    const session = requireSession(res);
    await knownEnterprise(enterprise);
    // The application a reader cites goes into the enterprise's log: it must be one of that enterprise's,
    // with the reader as its lender (or the operator reading).
    if (application !== undefined && session.address !== enterprise) {
      const app = deps.applicationOf?.(application);
      if (!app || app.borrower !== enterprise || !(app.lender === session.address || session.operator)) {
        throw new ValidationError(
          `application: ${application} is not an application of ${enterprise} with you as its lender`,
          "application",
          { textCode: "not_your_application", params: { applicationId: application, enterprise } },
        );
      }
    }
    return authorizer.authorizeEnterpriseRead(session, enterprise, scopes, {
      resource,
      applicationId: application,
      requestId: String(res.req.id),
    });
  }

  table.add(
    {
      method: "get",
      path: "/api/enterprises/:address/metrics",
      summary:
        "The enterprise's underwriting metrics as of a day: { enterprise, asOf (end of the UTC day), day, values[key][window] } (consent scope: metrics)",
      tag: "enterprises",
      auth: "session",
      params: EnterpriseParams,
      query: z.object({
        asOf: AS_OF.optional().describe("Block time in seconds to compute at; default now"),
        application: applicationId.optional(),
      }),
      errors: READ_ERRORS,
    },
    async ({ params, query, res }) => {
      const grant = await authorize(res, params.address, ["metrics"], "GET /api/enterprises/:address/metrics", query.application);
      const asOf = query.asOf ?? (await authority.recentNow());
      const metrics = await enterpriseReads.metrics(params.address, asOf);
      // The same metrics object comes back per enterprise and day until its records (a reader: the checkpoint) change: convert each to JSON once too.
      let json = jsonOfMetrics.get(metrics) as { values: Record<string, unknown> } | undefined;
      if (!json) jsonOfMetrics.set(metrics, (json = toJsonSafe(metrics) as { values: Record<string, unknown> }));
      if ((grant.scopes & SCOPE.counterparties) !== 0) return json;
      return { ...json, ...visibleMetrics(json.values, grant.scopes) };
    },
  );

  table.add(
    {
      method: "get",
      path: "/api/enterprises/:address/series",
      summary: "Monthly sales volume, on-time rate and payback cycle for charts, oldest month first (consent scope: metrics)",
      tag: "enterprises",
      auth: "session",
      params: EnterpriseParams,
      query: z.object({
        months: z.coerce.number().int().min(1).max(60).default(12).describe("How many calendar months, ending with asOf's month"),
        asOf: AS_OF.optional().describe("Block time in seconds; default now"),
        application: applicationId.optional(),
      }),
      errors: READ_ERRORS,
    },
    async ({ params, query, res }) => {
      await authorize(res, params.address, ["metrics"], "GET /api/enterprises/:address/series", query.application);
      const asOf = query.asOf ?? (await authority.recentNow());
      return { enterprise: params.address, asOf, months: await enterpriseReads.series(params.address, asOf, query.months) };
    },
  );

  const lists = [
    {
      name: "orders",
      scope: "orderHistory",
      what: "Trade orders where the enterprise is buyer or supplier",
    },
    {
      name: "receivables",
      scope: "receivables",
      what: "Receivables the enterprise issued, owes or has held",
    },
    { name: "loans", scope: "loans", what: "Loans where the enterprise is borrower or lender" },
  ] as const;

  for (const list of lists) {
    const resource = `GET /api/enterprises/:address/${list.name}`;
    table.add(
      {
        method: "get",
        path: `/api/enterprises/:address/${list.name}`,
        summary: `${list.what}, newest first (consent scope: ${list.scope})`,
        tag: "enterprises",
        auth: "session",
        params: EnterpriseParams,
        query: z.object({ ...Paging, application: applicationId.optional() }),
        errors: READ_ERRORS,
      },
      async ({ params, query, res }) => {
        await authorize(res, params.address, [list.scope], resource, query.application);
        return { enterprise: params.address, ...(await enterpriseReads.page(list.name, params.address, query.limit, query.offset)) };
      },
    );
  }

  table.add(
    {
      method: "get",
      path: "/api/enterprises/:address/access-log",
      summary: "Who read the enterprise's data, when, which scopes, under which consent and for which application (the enterprise only)",
      tag: "enterprises",
      auth: "session",
      params: EnterpriseParams,
      query: z.object({
        ...Paging,
        cursor: z
          .string()
          .regex(/^\d{1,15}$/, "a cursor is the nextCursor of the previous page")
          .optional(),
      }),
      errors: [400, 401, 403, 429],
    },
    async ({ params, query, res }) => {
      const session = requireSession(res);
      // Not derived from the chain: readable by the enterprise even when the index does not know it
      // (a chain change halted the index, a new deployment).
      if (session.address !== params.address)
        throw new ForbiddenError("only the enterprise itself reads its access log", {
          textCode: "access_log_self_only",
          params: {},
        });
      const page = await accessLog.page(params.address, {
        limit: query.limit,
        offset: query.offset,
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      return { enterprise: params.address, offset: query.offset, limit: query.limit, ...page };
    },
  );
}
