/**
 * POST /api/backtest: a lender runs a policy over history (the back-test) beside the policy in force.
 * Cases are the lender's own past applications (their stored snapshots) and, for the enterprises that
 * never applied to it, one case per month end in the range. The answer is aggregated per score band:
 * no enterprise's figures leave the service. JSON, or CSV with ?format=csv.
 */
import { z } from "zod";
import type { ApplicationService } from "../../applications/service";
import { ROLE } from "../../chain/eip712";
import { NotFoundError } from "../../domain/errors";
import { toJsonSafe } from "../../domain/json";
import { DAY } from "../../domain/time";
import { CsvLang } from "../../domain/csv";
import { backtestCsv, backtestReport } from "../../underwriting/backtest";
import { PolicySchema, policyByVersion } from "../../underwriting/policy";
import type { RouteModule } from "../app";
import { requireRole, requireSession } from "../authorize";

const seconds = z
  .number()
  .int()
  .min(0)
  .max(2 ** 40);

export const BacktestBody = z
  .object({
    policy: PolicySchema.optional().describe("The policy to test, in full (the policy file's JSON)"),
    policyVersion: z.string().min(1).max(40).optional().describe("Or a stored policy version"),
    termDays: z.number().int().min(1).max(3650).default(30).describe("Term of the monthly cases (enterprises that never applied)"),
    from: seconds.optional().describe("Start of the range (block time, seconds); default 365 days before `to`"),
    to: seconds.optional().describe("End of the range and the time outcomes are observed at; default now"),
  })
  .refine((b) => (b.policy === undefined) !== (b.policyVersion === undefined), {
    message: "give exactly one of policy, policyVersion",
    path: ["policy"],
  })
  .refine((b) => b.from === undefined || b.to === undefined || b.from < b.to, { message: "from must be before to", path: ["from"] });

const Query = z.object({ format: z.enum(["json", "csv"]).default("json").describe("json, or csv for a spreadsheet"), lang: CsvLang });

export function backtestRoutes(service: ApplicationService): RouteModule {
  return ({ deps, table }) => {
    table.add(
      {
        method: "post",
        path: "/api/backtest",
        summary:
          "Back-test a policy over the lender's past applications and monthly cases of enterprises that never applied, beside the policy in force (lender)",
        tag: "underwriting",
        auth: "session",
        body: BacktestBody,
        query: Query,
        errors: [400, 401, 403, 404],
      },
      async ({ body, query, res }) => {
        const session = requireSession(res);
        requireRole(session, ROLE.LENDER);
        const policy = body.policy ?? policyByVersionOr404(body.policyVersion as string);
        const to = body.to ?? (await deps.authority.recentNow());
        const from = body.from ?? to - 365 * DAY;
        const mine = service.list(session).filter((a) => session.operator || a.lender === session.address);
        // One moment of the index throughout: in memory on an indexing process, one snapshot on a reader.
        const report = await service.withIndex((index) =>
          backtestReport(index, { applications: mine, lender: session.address, policy, from, to, termDays: body.termDays }),
        );
        if (query.format === "csv") {
          res.type("text/csv; charset=utf-8").attachment(`backtest-${policy.version}.csv`).send(backtestCsv(report, query.lang));
          return undefined;
        }
        return toJsonSafe({ from, to, termDays: body.termDays, ...report });
      },
    );
  };
}

function policyByVersionOr404(version: string) {
  try {
    return policyByVersion(version);
  } catch {
    throw new NotFoundError(`no policy version ${JSON.stringify(version)}`);
  }
}
