/**
 * /api/loans and /api/consents: the borrower's loans after signing (balance, due date, schedule, history
 * of repayments and collections) and the consents a participant granted or holds, straight from the
 * indexed chain state. A loan is served to its borrower, its lender and the operator; to anyone else it
 * does not exist. Amounts leave as decimal strings of minor units.
 */
import { z } from "zod";
import type { Address } from "../../domain/entities";
import { NotFoundError } from "../../domain/errors";
import { loanView } from "../../loans/view";
import { consentKey } from "../../indexer/reducers/consentRegistry";
import type { RouteContext } from "../app";
import { requireSession, scopeNames } from "../authorize";
import { address } from "../schemas";

const LoanParams = z.object({ id: z.string().regex(/^[1-9][0-9]{0,18}$/, "must be a loan id (a positive whole number)") });

export function mountLoanRoutes({ table, deps }: RouteContext): void {
  const { loanReads, authority } = deps;
  const tag = "loans";

  table.add(
    {
      method: "get",
      path: "/api/loans",
      summary: "The caller's loans (as borrower, or as lender with role=lender), newest first, with balance, schedule and history",
      tag,
      auth: "session",
      query: z.object({ role: z.enum(["borrower", "lender"]).default("borrower").describe("Loans where the caller is this party") }),
      errors: [400, 401],
    },
    async ({ query, res }) => {
      const session = requireSession(res);
      const [{ loans, state }, asOf] = await Promise.all([loanReads.ofParty(session.address), authority.recentNow()]);
      return { asOf, loans: loans.filter((l) => l[query.role] === session.address).map((l) => loanView(state, l, asOf)) };
    },
  );

  table.add(
    {
      method: "get",
      path: "/api/loans/:id",
      summary: "One loan with its balance, schedule and history (its borrower, its lender, the operator)",
      tag,
      auth: "session",
      params: LoanParams,
      errors: [400, 401, 404],
    },
    async ({ params, res }) => {
      const session = requireSession(res);
      const {
        loans: [loan],
        state,
      } = await loanReads.one(params.id);
      if (!loan || !(session.operator || loan.borrower === session.address || loan.lender === session.address)) {
        throw new NotFoundError(`no loan ${params.id}`, { textCode: "loan_not_found", params: { loanId: params.id } });
      }
      return loanView(state, loan, await authority.recentNow());
    },
  );

  table.add(
    {
      method: "get",
      path: "/api/consents",
      summary: "Consents the caller granted (as borrower), or holds (as lender with role=lender): scopes, expiry, revocation, in force now",
      tag,
      auth: "session",
      query: z.object({
        role: z.enum(["borrower", "lender"]).default("borrower").describe("Consents where the caller is this party"),
        counterparty: address.optional().describe("Only the consent with this lender (or borrower)"),
      }),
      errors: [400, 401],
    },
    async ({ query, res }) => {
      const session = requireSession(res);
      const [held, asOf] = await Promise.all([loanReads.consentsOf(session.address, query.role), authority.recentNow()]);
      const mine = held.filter((c) => !query.counterparty || c[query.role === "borrower" ? "lender" : "borrower"] === query.counterparty);
      return {
        asOf,
        consents: mine
          // Newest first; the same order whichever way they were read (in memory, or rows from the database).
          .sort((a, b) => b.grantedAt - a.grantedAt || consentKey(a.borrower, a.lender).localeCompare(consentKey(b.borrower, b.lender)))
          .map((c) => ({
            key: consentKey(c.borrower, c.lender),
            borrower: c.borrower,
            lender: c.lender as Address,
            scopes: c.scopes,
            scopeNames: scopeNames(c.scopes),
            grantedAt: c.grantedAt,
            expiresAt: c.expiresAt,
            ...(c.revokedAt !== undefined ? { revokedAt: c.revokedAt } : {}),
            purpose: c.purpose,
            inForce: c.revokedAt === undefined && asOf < c.expiresAt,
            history: c.history,
          })),
      };
    },
  );
}
