/**
 * A lender's own portfolio as CSV for its reporting: its loans (with the collateral's status), the
 * repayments on them, and the receivable payments that went through the waterfall to them. Amounts are
 * minor units as integers; times are ISO 8601 (UTC) from block time. Only the lender itself (or the
 * operator) reads it.
 */
import { z } from "zod";
import type { Address, IndexState, LoanEntity } from "../../domain/entities";
import { ForbiddenError } from "../../domain/errors";
import { requireSession } from "../authorize";
import { address } from "../schemas";
import type { RouteContext } from "../app";

const KINDS = ["loans", "repayments", "receivable-payments"] as const;
type Kind = (typeof KINDS)[number];

const iso = (t: number | undefined) => (t === undefined ? "" : new Date(t * 1000).toISOString());

/** RFC 4180 field: quoted when it holds a separator, a quote or a line break. */
function field(value: string | number | bigint | undefined): string {
  const text = value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(header: string[], rows: (string | number | bigint | undefined)[][]): string {
  return [header, ...rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

function lenderLoans(state: IndexState, lender: Address): LoanEntity[] {
  return (state.loansByParty[lender] ?? [])
    .map((id) => state.loans[id])
    .filter((l): l is LoanEntity => l !== undefined && l.lender === lender);
}

function portfolioCsv(state: IndexState, lender: Address, kind: Kind): string {
  const loans = lenderLoans(state, lender);
  if (kind === "loans") {
    return csv(
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
      ],
      loans.map((l) => [
        l.id,
        l.borrower,
        l.status,
        l.principal,
        l.rateBps,
        iso(l.start),
        iso(l.maturity),
        l.totalDue,
        l.repaid,
        l.totalDue > l.repaid ? l.totalDue - l.repaid : 0n,
        iso(l.disbursedAt),
        iso(l.closedAt),
        iso(l.defaultedAt),
        l.collateral.join(" "),
        l.collateral.map((id) => `${id}:${state.receivables[id]?.status ?? "unknown"}`).join(" "),
        l.digest,
        l.documentHash,
      ]),
    );
  }
  if (kind === "repayments") {
    return csv(
      ["loan_id", "borrower", "at", "amount", "via_receivable", "tx_hash", "block_number"],
      loans.flatMap((l) =>
        l.repayments.map((r) => [l.id, l.borrower, iso(r.at), r.amount, r.receivableId, r.ref.txHash, r.ref.blockNumber]),
      ),
    );
  }
  const rows: (string | number | bigint | undefined)[][] = [];
  for (const l of loans) {
    for (const id of l.collateral) {
      const r = state.receivables[id];
      for (const p of r?.payments ?? []) {
        if (p.loanId === l.id)
          rows.push([id, l.id, r.debtor, iso(p.at), p.amount, p.toLoan, p.amount - p.toLoan, p.holder, p.ref.txHash, p.ref.blockNumber]);
      }
    }
  }
  return csv(["receivable_id", "loan_id", "debtor", "at", "amount", "to_loan", "to_holder", "holder", "tx_hash", "block_number"], rows);
}

export function mountLenderRoutes({ deps, table }: RouteContext): void {
  table.add(
    {
      method: "get",
      path: "/api/lenders/:address/portfolio.csv",
      summary: "The lender's loans, repayments or waterfall receivable payments as CSV (the lender itself or the operator)",
      tag: "lenders",
      auth: "session",
      params: z.object({ address: address.describe("The lender's account address") }),
      query: z.object({ kind: z.enum(KINDS).default("loans").describe("Which table") }),
      errors: [400, 401, 403, 429],
      produces: "text/csv",
    },
    ({ params, query, res }) => {
      const session = requireSession(res);
      if (session.address !== params.address && !session.operator) throw new ForbiddenError("only the lender itself exports its portfolio");
      res
        .type("text/csv; charset=utf-8")
        .attachment(`portfolio-${query.kind}-${params.address}.csv`)
        .send(portfolioCsv(deps.indexer.state(), params.address, query.kind));
      return undefined;
    },
  );
}
