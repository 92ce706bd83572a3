/**
 * A lender's own portfolio, for its page and its reporting: GET /api/lenders/:address/portfolio (JSON:
 * exposure by borrower and by debtor, upcoming maturities, overdue loans with days past due, collections,
 * the loans themselves) and GET /api/lenders/:address/portfolio.csv (one table per `kind`). Amounts are
 * decimal strings of minor units in JSON; in CSV they are exact major units with a currency column.
 * Times are block time (seconds in JSON, ISO 8601 UTC in CSV). Participants carry the name the operator
 * published where the service knows it. Only the lender itself (or the operator) reads it.
 */
import { z } from "zod";
import type { Address } from "../../domain/entities";
import { ROLE } from "../../chain/eip712";
import { ForbiddenError } from "../../domain/errors";
import { CsvLang, Money, Term, termText, toCsv as writeCsv, type CsvCell, type CsvLanguage } from "../../domain/csv";
import { CURRENCY } from "../../domain/money";
import type { Session } from "../../domain/session";
import { directoryEntry, readParticipantNames } from "../../participants/directory";
import { computePortfolio, PORTFOLIO_DEFINITIONS, type Party, type Portfolio } from "../../lending/portfolio";
import { requireRole, requireSession } from "../authorize";
import { address } from "../schemas";
import type { RouteContext } from "../app";

const KINDS = [
  "loans",
  "repayments",
  "receivable-payments",
  "exposure-by-borrower",
  "exposure-by-debtor",
  "maturities",
  "overdue",
] as const;
type Kind = (typeof KINDS)[number];

const iso = (t: number | undefined) => (t === undefined ? "" : new Date(t * 1000).toISOString());
const m = (minor: bigint) => new Money(minor);
/** The name for a CSV cell: a verified name as it is, a name that did not match the registry marked as a claim. */
/** A party's registered name in a cell; one that does not match its on-chain commitment says so, in the CSV's language. */
const nameIn = (lang: CsvLanguage) => (p: Party | null | undefined) =>
  p?.name === undefined ? "" : p.nameStatus === "verified" ? p.name : `${p.name} (${termText("claim, not matched", lang)})`;

/** The CSV tables. Columns of the first three tables keep their names and places; currency and names come last. */
export function portfolioCsv(p: Portfolio, kind: Kind, receivablePayments: CsvCell[][], lang: CsvLanguage = "en"): string {
  const toCsv = (header: readonly string[], rows: readonly CsvCell[][]) => writeCsv(header, rows, lang);
  const name = nameIn(lang);
  switch (kind) {
    case "loans":
      return toCsv(
        [
          "loan_id",
          "borrower",
          "status",
          "principal",
          "rate_bps",
          "start",
          "maturity",
          "total_due",
          "repaid",
          "outstanding",
          "disbursed_at",
          "closed_at",
          "defaulted_at",
          "collateral",
          "collateral_status",
          "agreement_digest",
          "document_sha256",
          "days_past_due",
          "currency",
          "borrower_name",
        ],
        p.loans.map((l) => [
          l.id,
          l.borrower.address,
          new Term(l.status),
          m(l.principal),
          l.rateBps,
          iso(l.start),
          iso(l.maturity),
          m(l.totalDue),
          m(l.repaid),
          m(l.outstanding),
          iso(l.disbursedAt),
          iso(l.closedAt),
          iso(l.defaultedAt),
          l.collateral.map((c) => c.id).join(" "),
          l.collateral.map((c) => `${c.id}:${termText(c.pledged ? "Pledged" : c.status, lang)}`).join(" "),
          l.digest,
          l.documentHash,
          l.daysPastDue ?? "",
          CURRENCY.code,
          name(l.borrower),
        ]),
      );
    case "repayments":
      return toCsv(
        [
          "loan_id",
          "borrower",
          "at",
          "amount",
          "via_receivable",
          "tx_hash",
          "block_number",
          "after_default",
          "debtor",
          "currency",
          "borrower_name",
          "debtor_name",
        ],
        [...p.collections]
          .reverse()
          .map((c) => [
            c.loanId,
            c.borrower.address,
            iso(c.at),
            m(c.amount),
            c.receivableId,
            c.txHash,
            c.blockNumber,
            c.afterDefault,
            c.debtor?.address,
            CURRENCY.code,
            name(c.borrower),
            name(c.debtor),
          ]),
      );
    case "receivable-payments":
      return toCsv(
        [
          "receivable_id",
          "loan_id",
          "debtor",
          "at",
          "amount",
          "to_loan",
          "to_holder",
          "holder",
          "tx_hash",
          "block_number",
          "currency",
          "debtor_name",
        ],
        receivablePayments,
      );
    case "exposure-by-borrower":
      return toCsv(
        ["borrower", "borrower_name", "live_loans", "outstanding", "share", "currency"],
        p.exposureByBorrower.map((e) => [e.party?.address, name(e.party), e.loans, m(e.outstanding), e.share, CURRENCY.code]),
      );
    case "exposure-by-debtor":
      return toCsv(
        ["debtor", "debtor_name", "live_loans", "outstanding", "collateral_unpaid", "share", "currency"],
        p.exposureByDebtor.map((e) => [
          e.party?.address ?? "",
          e.party ? name(e.party) : new Term("no unpaid collateral"),
          e.loans,
          m(e.outstanding),
          m(e.collateralUnpaid ?? 0n),
          e.share,
          CURRENCY.code,
        ]),
      );
    case "maturities":
      return toCsv(
        ["loan_id", "borrower", "borrower_name", "maturity", "in_days", "outstanding", "currency"],
        p.upcomingMaturities.map((u) => [
          u.loanId,
          u.borrower.address,
          name(u.borrower),
          iso(u.maturity),
          u.inDays,
          m(u.outstanding),
          CURRENCY.code,
        ]),
      );
    case "overdue":
      return toCsv(
        ["loan_id", "borrower", "borrower_name", "status", "maturity", "days_past_due", "defaultable_at", "outstanding", "currency"],
        p.overdue.map((o) => [
          o.loanId,
          o.borrower.address,
          name(o.borrower),
          new Term(o.status),
          iso(o.maturity),
          o.daysPastDue,
          iso(o.defaultableAt),
          m(o.outstanding),
          CURRENCY.code,
        ]),
      );
  }
}

export function mountLenderRoutes({ deps, table }: RouteContext): void {
  const params = z.object({ address: address.describe("The lender's account address") });

  /** The lender itself (a registered lender) or the operator; anyone else 403 (no session: 401 before this). */
  function requireOwnPortfolio(session: Session, lender: Address): void {
    if (session.address !== lender && !session.operator)
      throw new ForbiddenError("only the lender itself reads its portfolio", {
        textCode: "portfolio_self_only",
        params: {},
      });
    requireRole(session, ROLE.LENDER);
  }

  async function portfolioOf(lender: Address) {
    const state = await deps.loanReads.portfolioOf(lender);
    const names = await readParticipantNames(deps.config.DATA_DIR);
    const party = (account: Address): Party => {
      const e = directoryEntry(state, names, account);
      return e.name === null || e.status === null ? { address: e.address } : { address: e.address, name: e.name, nameStatus: e.status };
    };
    const asOf = await deps.authority.recentNow();
    const portfolio = computePortfolio(state, lender, { asOf, gracePeriod: deps.deployment.gracePeriod, party });
    return { state, party, portfolio };
  }

  table.add(
    {
      method: "get",
      path: "/api/lenders/:address/portfolio",
      summary:
        "The lender's portfolio: exposure by borrower and by debtor, upcoming maturities, overdue loans with days past due, collections, loans (the lender itself or the operator)",
      tag: "lenders",
      auth: "session",
      params,
      errors: [400, 401, 403, 429, 503],
    },
    async ({ params, res }) => {
      requireOwnPortfolio(requireSession(res), params.address);
      const { portfolio } = await portfolioOf(params.address);
      return { currency: CURRENCY.code, minorUnitDigits: CURRENCY.decimals, definitions: PORTFOLIO_DEFINITIONS, ...portfolio };
    },
  );

  table.add(
    {
      method: "get",
      path: "/api/lenders/:address/portfolio.csv",
      summary:
        "The lender's loans, repayments, waterfall receivable payments, exposure by borrower or debtor, maturities or overdue loans as CSV, amounts in major units with a currency column (the lender itself or the operator)",
      tag: "lenders",
      auth: "session",
      params,
      query: z.object({ kind: z.enum(KINDS).default("loans").describe("Which table"), lang: CsvLang }),
      errors: [400, 401, 403, 429, 503],
      produces: "text/csv",
    },
    async ({ params, query, res }) => {
      requireOwnPortfolio(requireSession(res), params.address);
      const { state, party, portfolio } = await portfolioOf(params.address);
      const receivablePayments: CsvCell[][] = [];
      if (query.kind === "receivable-payments") {
        for (const l of portfolio.loans) {
          for (const c of l.collateral) {
            const r = state.receivables[c.id];
            for (const pay of r?.payments ?? []) {
              if (pay.loanId !== l.id) continue;
              receivablePayments.push([
                c.id,
                l.id,
                r.debtor,
                iso(pay.at),
                m(pay.amount),
                m(pay.toLoan),
                m(pay.amount - pay.toLoan),
                pay.holder,
                pay.ref.txHash,
                pay.ref.blockNumber,
                CURRENCY.code,
                nameIn(query.lang)(party(r.debtor)),
              ]);
            }
          }
        }
      }
      res
        .type("text/csv; charset=utf-8")
        .attachment(`portfolio-${query.kind}-${params.address}.csv`)
        .send(portfolioCsv(portfolio, query.kind, receivablePayments, query.lang));
      return undefined;
    },
  );
}
