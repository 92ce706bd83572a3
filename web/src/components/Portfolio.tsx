/**
 * The lender's portfolio on one page (GET /api/lenders/:address/portfolio): key figures, exposure by
 * borrower and by debtor with charts, the maturities ahead, overdue loans with their days past due,
 * collections (direct and through the pledged receivables, before and after default) by month and one
 * by one, every loan with its collateral, and CSV export of each table (major units, currency column).
 * Participants appear by the name the service knows, the address one click away.
 */
import { api } from "../api";
import { useSession } from "../hooks/session";
import { formatAmount, formatDate, formatRate, shortHex } from "../format";
import { Badge, Card, ErrorBox, Loading, Table, useLoad } from "./ui";
import { BarChart, LineChart } from "./charts";

type Status = "Signed" | "Active" | "Repaid" | "Defaulted" | "Recovered" | "Cancelled";

export interface PartyView {
  address: string;
  name?: string;
}

interface PortfolioView {
  currency: string;
  asOf: number;
  totals: {
    loans: number;
    live: number;
    disbursed: string;
    outstanding: string;
    overdueLoans: number;
    overdueOutstanding: string;
    defaulted: number;
    collected: string;
    collectedAfterDefault: string;
  };
  loans: {
    id: string;
    borrower: PartyView;
    status: Status;
    principal: string;
    rateBps: number;
    totalDue: string;
    repaid: string;
    outstanding: string;
    maturity: number;
    daysPastDue: number | null;
    collateral: { id: string; debtor: PartyView; faceValue: string; paid: string; status: string; pledged: boolean }[];
  }[];
  exposureByBorrower: { party: PartyView; loans: number; outstanding: string; share: number | null }[];
  exposureByDebtor: { party: PartyView | null; loans: number; outstanding: string; collateralUnpaid: string; share: number | null }[];
  upcomingMaturities: { loanId: string; borrower: PartyView; maturity: number; inDays: number; outstanding: string }[];
  overdue: {
    loanId: string;
    borrower: PartyView;
    maturity: number;
    daysPastDue: number;
    outstanding: string;
    status: Status;
    defaultableAt: number;
  }[];
  collections: {
    loanId: string;
    borrower: PartyView;
    at: number;
    amount: string;
    via: "borrower" | "receivable";
    receivableId?: string;
    debtor?: PartyView;
    afterDefault: boolean;
    txHash: string;
  }[];
  collectionsByMonth: { month: string; amount: string; partial: boolean }[];
  maturitiesByMonth: { month: string; amount: string; partial: boolean }[];
}

/** A participant by name; the address opens on demand (keyboard too: it is a disclosure). */
export function Party({ party }: { party: PartyView | null | undefined }) {
  if (!party) return <span className="muted">no unpaid collateral</span>;
  return (
    <details className="party">
      <summary title={party.address}>{party.name ?? shortHex(party.address, 4)}</summary>
      <code>{party.address}</code>
    </details>
  );
}

const partyLabel = (p: PartyView | null) => (p ? (p.name ?? shortHex(p.address, 4)) : "No unpaid collateral");
const pct = (share: number | null) => (share === null ? "—" : `${(share * 100).toFixed(1)} %`);
const loans = (n: number) => `${n} live loan${n === 1 ? "" : "s"}`;

/** Collections summed by where they came from (a collection after a default counts under recoveries only). */
function collectedBySource(collections: PortfolioView["collections"]): [string, bigint][] {
  const sum = (pick: (c: PortfolioView["collections"][number]) => boolean) =>
    collections.filter(pick).reduce((s, c) => s + BigInt(c.amount), 0n);
  return [
    ["Borrowers' repayments", sum((c) => !c.afterDefault && c.via === "borrower")],
    ["Receivables paid by their debtors", sum((c) => !c.afterDefault && c.via === "receivable")],
    ["Recovered after default", sum((c) => c.afterDefault)],
  ];
}

/** "2026-11" -> "Nov 2026". */
function monthName(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, 15)).toLocaleDateString(undefined, { month: "short", year: "numeric", timeZone: "UTC" });
}

export function Portfolio() {
  const session = useSession();
  const address = session.me!.address.toLowerCase();
  const data = useLoad(() => api<PortfolioView>(`/api/lenders/${address}/portfolio`), [address]);
  const csv = (kind: string) => `/api/lenders/${address}/portfolio.csv?kind=${kind}`;
  const p = data.data;

  return (
    <div className="portfolio">
      {data.loading && !p ? <Loading what="portfolio" /> : null}
      <ErrorBox error={data.error} />
      {data.error ? (
        <button type="button" onClick={data.reload}>
          Try again
        </button>
      ) : null}
      {p && (
        <>
          <div className="kpis" aria-label="Portfolio key figures">
            <div className="kpi">
              <span className="kpi-label">Outstanding</span>
              <span className="kpi-value">{formatAmount(p.totals.outstanding)}</span>
              <span className="muted">{loans(p.totals.live)}</span>
            </div>
            <div className="kpi">
              <span className="kpi-label">Overdue</span>
              <span className="kpi-value">{formatAmount(p.totals.overdueOutstanding)}</span>
              <span className="muted">
                {p.totals.overdueLoans} loan{p.totals.overdueLoans === 1 ? "" : "s"} past maturity
              </span>
            </div>
            <div className="kpi">
              <span className="kpi-label">Collected</span>
              <span className="kpi-value">{formatAmount(p.totals.collected)}</span>
              <span className="muted">{formatAmount(p.totals.collectedAfterDefault)} after default</span>
            </div>
            <div className="kpi">
              <span className="kpi-label">Disbursed</span>
              <span className="kpi-value">{formatAmount(p.totals.disbursed)}</span>
              <span className="muted">
                {p.totals.loans} loans, {p.totals.defaulted} defaulted · as of {formatDate(p.asOf)}
              </span>
            </div>
          </div>

          <Card
            title="Exposure"
            actions={
              <span className="exports">
                <a href={csv("exposure-by-borrower")} download>
                  By borrower CSV
                </a>{" "}
                <a href={csv("exposure-by-debtor")} download>
                  By debtor CSV
                </a>
              </span>
            }
          >
            <div className="charts">
              <BarChart
                title="By borrower (outstanding)"
                empty="No live loan."
                bars={p.exposureByBorrower.map((e) => ({
                  label: partyLabel(e.party),
                  value: Number(e.outstanding),
                  display: `${formatAmount(e.outstanding)} (${pct(e.share)})`,
                  note: loans(e.loans),
                }))}
              />
              <BarChart
                title="By debtor of the pledged receivables"
                empty="No live loan."
                bars={p.exposureByDebtor.map((e) => ({
                  label: partyLabel(e.party),
                  value: Number(e.outstanding),
                  display: `${formatAmount(e.outstanding)} (${pct(e.share)})`,
                  note: `${formatAmount(e.collateralUnpaid)} unpaid collateral`,
                }))}
              />
            </div>
            <Table
              caption="Exposure by debtor"
              rows={p.exposureByDebtor}
              rowKey={(e) => e.party?.address ?? "none"}
              empty="No live loan."
              columns={[
                { key: "debtor", label: "Debtor", render: (e) => <Party party={e.party} /> },
                { key: "loans", label: "Live loans", numeric: true, render: (e) => e.loans },
                { key: "outstanding", label: "Outstanding", numeric: true, render: (e) => formatAmount(e.outstanding) },
                { key: "share", label: "Share", numeric: true, render: (e) => pct(e.share) },
                { key: "unpaid", label: "Unpaid collateral", numeric: true, render: (e) => formatAmount(e.collateralUnpaid) },
              ]}
            />
          </Card>

          <Card
            title="Overdue loans"
            actions={
              <a href={csv("overdue")} download>
                Overdue CSV
              </a>
            }
          >
            <Table
              rows={p.overdue}
              rowKey={(o) => o.loanId}
              empty="No loan is past its maturity."
              columns={[
                { key: "id", label: "Loan", render: (o) => `#${o.loanId}` },
                { key: "borrower", label: "Borrower", render: (o) => <Party party={o.borrower} /> },
                { key: "maturity", label: "Matured", render: (o) => formatDate(o.maturity) },
                { key: "dpd", label: "Days past due", numeric: true, render: (o) => o.daysPastDue },
                { key: "outstanding", label: "Outstanding", numeric: true, render: (o) => formatAmount(o.outstanding) },
                {
                  key: "status",
                  label: "Status",
                  render: (o) =>
                    o.status === "Defaulted" ? (
                      <Badge status="Defaulted" />
                    ) : (
                      <>
                        <Badge status="Active" />{" "}
                        <span className="muted">
                          {o.defaultableAt < p.asOf ? "default may be declared" : `default from ${formatDate(o.defaultableAt)}`}
                        </span>
                      </>
                    ),
                },
              ]}
            />
          </Card>

          <Card
            title="Upcoming maturities"
            actions={
              <a href={csv("maturities")} download>
                Maturities CSV
              </a>
            }
          >
            <div className="charts">
              <BarChart
                title="Outstanding by month of maturity"
                empty="No live loan."
                bars={p.maturitiesByMonth.map((m) => ({
                  label: `${monthName(m.month)}${m.partial ? " (this month, incl. overdue)" : ""}`,
                  value: Number(m.amount),
                  display: formatAmount(m.amount),
                }))}
              />
            </div>
            <Table
              rows={p.upcomingMaturities}
              rowKey={(u) => u.loanId}
              empty="No live loan matures ahead."
              columns={[
                { key: "id", label: "Loan", render: (u) => `#${u.loanId}` },
                { key: "borrower", label: "Borrower", render: (u) => <Party party={u.borrower} /> },
                { key: "maturity", label: "Maturity", render: (u) => formatDate(u.maturity) },
                { key: "in", label: "In days", numeric: true, render: (u) => u.inDays },
                { key: "outstanding", label: "Outstanding", numeric: true, render: (u) => formatAmount(u.outstanding) },
              ]}
            />
          </Card>

          <Card
            title="Collections"
            actions={
              <span className="exports">
                <a href={csv("repayments")} download>
                  Repayments CSV
                </a>{" "}
                <a href={csv("receivable-payments")} download>
                  Receivable payments CSV
                </a>
              </span>
            }
          >
            <div className="charts">
              <LineChart
                title="Collected per month (this month so far)"
                points={p.collectionsByMonth.map((m) => ({ label: m.month, value: Number(m.amount) }))}
                format={(v) => formatAmount(String(Math.round(v)))}
              />
              <BarChart
                title="Collected by source"
                empty="Nothing collected yet."
                bars={collectedBySource(p.collections).map(([label, amount]) => ({
                  label,
                  value: Number(amount),
                  display: formatAmount(amount),
                }))}
              />
            </div>
            <Table
              rows={p.collections.slice(0, 50)}
              rowKey={(c) => `${c.txHash}-${c.loanId}-${c.receivableId ?? ""}`}
              empty="Nothing collected yet."
              columns={[
                { key: "at", label: "Date", render: (c) => formatDate(c.at) },
                { key: "loan", label: "Loan", render: (c) => `#${c.loanId}` },
                { key: "borrower", label: "Borrower", render: (c) => <Party party={c.borrower} /> },
                {
                  key: "via",
                  label: "From",
                  render: (c) =>
                    c.via === "borrower" ? (
                      "Borrower's repayment"
                    ) : (
                      <>
                        Receivable #{c.receivableId} paid by <Party party={c.debtor} />
                      </>
                    ),
                },
                { key: "amount", label: "Amount", numeric: true, render: (c) => formatAmount(c.amount) },
                {
                  key: "default",
                  label: "After default",
                  render: (c) => (c.afterDefault ? <span className="late">after default</span> : ""),
                },
              ]}
            />
          </Card>

          <Card
            title="Portfolio"
            actions={
              <a href={csv("loans")} download>
                Loans CSV
              </a>
            }
          >
            <Table
              caption="Every loan of this lender"
              rows={p.loans}
              rowKey={(l) => l.id}
              empty="No loans yet."
              columns={[
                { key: "id", label: "Loan", render: (l) => `#${l.id}` },
                { key: "borrower", label: "Borrower", render: (l) => <Party party={l.borrower} /> },
                { key: "principal", label: "Principal", numeric: true, render: (l) => formatAmount(l.principal) },
                { key: "rate", label: "Rate", numeric: true, render: (l) => formatRate(l.rateBps) },
                { key: "repaid", label: "Repaid", numeric: true, render: (l) => formatAmount(l.repaid) },
                { key: "outstanding", label: "Outstanding", numeric: true, render: (l) => formatAmount(l.outstanding) },
                { key: "maturity", label: "Maturity", render: (l) => formatDate(l.maturity) },
                { key: "dpd", label: "Days past due", numeric: true, render: (l) => l.daysPastDue ?? "—" },
                {
                  key: "collateral",
                  label: "Collateral",
                  render: (l) => (
                    <ul className="collateral">
                      {l.collateral.map((c) => (
                        <li key={c.id}>
                          #{c.id} <Badge status={c.pledged ? "Pledged" : c.status} />
                        </li>
                      ))}
                    </ul>
                  ),
                },
                { key: "status", label: "Status", render: (l) => <Badge status={l.status} /> },
              ]}
            />
          </Card>
        </>
      )}
    </div>
  );
}
