/**
 * The lender's portfolio on one page (GET /api/lenders/:address/portfolio): key figures, exposure by
 * borrower and by debtor with charts, the maturities ahead, overdue loans with their days past due,
 * collections (direct and through the pledged receivables, before and after default) by month and one
 * by one, every loan with its collateral, and CSV export of each table (major units, currency column).
 * Participants appear by registered name (ParticipantName: verified or a claim), the address one click
 * away. Texts in English and Simplified Chinese (namespace "portfolio").
 */
import { api } from "../api";
import { useSession } from "../hooks/session";
import { formatAmount, formatDate, formatRate, shortHex } from "../format";
import { useLanguage, useT } from "../i18n";
import { Badge, Card, ErrorBox, Loading, receivableStatusWord, Table, useLoad } from "./ui";
import { BarChart, LineChart } from "./charts";
import { ParticipantName } from "./ParticipantName";

type Status = "Signed" | "Active" | "Repaid" | "Defaulted" | "Recovered" | "Cancelled";

export interface PartyView {
  address: string;
  name?: string;
  nameStatus?: "verified" | "claim";
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

/** A participant by registered name, the address on demand; a loan whose collateral is all paid has no debtor. */
function Party({ party }: { party: PartyView | null | undefined }) {
  const t = useT("portfolio");
  if (!party) return <span className="muted">{t("noUnpaidCollateral")}</span>;
  return <ParticipantName address={party.address} />;
}

type T = ReturnType<typeof useT>;

/** A chart label: a verified name as it is, a claimed one marked as a claim, else the short address. */
const partyLabel = (t: T, p: PartyView | null) =>
  !p
    ? t("noUnpaidCollateral")
    : p.name === undefined
      ? shortHex(p.address, 4)
      : p.nameStatus === "verified"
        ? p.name
        : t("claimedName", { name: p.name });
const pct = (share: number | null) => (share === null ? "—" : `${(share * 100).toFixed(1)} %`);

/** Collections summed by where they came from (a collection after a default counts under recoveries only). */
function collectedBySource(t: T, collections: PortfolioView["collections"]): [string, bigint][] {
  const sum = (pick: (c: PortfolioView["collections"][number]) => boolean) =>
    collections.filter(pick).reduce((s, c) => s + BigInt(c.amount), 0n);
  return [
    [t("source.borrower"), sum((c) => !c.afterDefault && c.via === "borrower")],
    [t("source.receivable"), sum((c) => !c.afterDefault && c.via === "receivable")],
    [t("source.afterDefault"), sum((c) => c.afterDefault)],
  ];
}

/** "2026-11" -> "Nov 2026" / "2026年11月" in the current language. */
function monthName(month: string, lang: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, 15)).toLocaleDateString(lang === "zh" ? "zh-CN" : "en-US", {
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}

export function Portfolio() {
  const t = useT("portfolio");
  const lang = useLanguage();
  const session = useSession();
  const address = session.me!.address.toLowerCase();
  const data = useLoad(() => api<PortfolioView>(`/api/lenders/${address}/portfolio`), [address]);
  // The header row in the UI's language.
  const csv = (kind: string) => `/api/lenders/${address}/portfolio.csv?kind=${kind}&lang=${lang}`;
  const p = data.data;

  return (
    <div className="portfolio">
      {data.loading && !p ? <Loading what={t("what")} /> : null}
      <ErrorBox error={data.error} />
      {data.error ? (
        <button type="button" onClick={data.reload}>
          {t("retry")}
        </button>
      ) : null}
      {p && (
        <>
          <div className="kpis" aria-label={t("figures.label")}>
            <div className="kpi">
              <span className="kpi-label">{t("figures.outstanding")}</span>
              <span className="kpi-value">{formatAmount(p.totals.outstanding)}</span>
              <span className="muted">{t("liveLoans", { count: p.totals.live })}</span>
            </div>
            <div className="kpi">
              <span className="kpi-label">{t("figures.overdue")}</span>
              <span className="kpi-value">{formatAmount(p.totals.overdueOutstanding)}</span>
              <span className="muted">{t("figures.pastMaturity", { count: p.totals.overdueLoans })}</span>
            </div>
            <div className="kpi">
              <span className="kpi-label">{t("figures.collected")}</span>
              <span className="kpi-value">{formatAmount(p.totals.collected)}</span>
              <span className="muted">{t("figures.afterDefault", { amount: formatAmount(p.totals.collectedAfterDefault) })}</span>
            </div>
            <div className="kpi">
              <span className="kpi-label">{t("figures.disbursed")}</span>
              <span className="kpi-value">{formatAmount(p.totals.disbursed)}</span>
              <span className="muted">
                {t("figures.loansDefaulted", { count: p.totals.loans, defaulted: p.totals.defaulted, date: formatDate(p.asOf) })}
              </span>
            </div>
          </div>

          <Card
            title={t("exposure.title")}
            actions={
              <span className="exports">
                <a href={csv("exposure-by-borrower")} download>
                  {t("csv.byBorrower")}
                </a>{" "}
                <a href={csv("exposure-by-debtor")} download>
                  {t("csv.byDebtor")}
                </a>
              </span>
            }
          >
            <div className="charts">
              <BarChart
                title={t("exposure.byBorrower")}
                empty={t("noLiveLoan")}
                bars={p.exposureByBorrower.map((e) => ({
                  label: partyLabel(t, e.party),
                  value: Number(e.outstanding),
                  display: `${formatAmount(e.outstanding)} (${pct(e.share)})`,
                  note: t("liveLoans", { count: e.loans }),
                }))}
              />
              <BarChart
                title={t("exposure.byDebtor")}
                empty={t("noLiveLoan")}
                bars={p.exposureByDebtor.map((e) => ({
                  label: partyLabel(t, e.party),
                  value: Number(e.outstanding),
                  display: `${formatAmount(e.outstanding)} (${pct(e.share)})`,
                  note: t("exposure.unpaidNote", { amount: formatAmount(e.collateralUnpaid) }),
                }))}
              />
            </div>
            <Table
              caption={t("exposure.debtorTable")}
              rows={p.exposureByDebtor}
              rowKey={(e) => e.party?.address ?? "none"}
              empty={t("noLiveLoan")}
              columns={[
                { key: "debtor", label: t("col.debtor"), render: (e) => <Party party={e.party} /> },
                { key: "loans", label: t("col.liveLoans"), numeric: true, render: (e) => e.loans },
                { key: "outstanding", label: t("col.outstanding"), numeric: true, render: (e) => formatAmount(e.outstanding) },
                { key: "share", label: t("col.share"), numeric: true, render: (e) => pct(e.share) },
                { key: "unpaid", label: t("col.unpaidCollateral"), numeric: true, render: (e) => formatAmount(e.collateralUnpaid) },
              ]}
            />
          </Card>

          <Card
            title={t("overdue.title")}
            actions={
              <a href={csv("overdue")} download>
                {t("csv.overdue")}
              </a>
            }
          >
            <Table
              rows={p.overdue}
              rowKey={(o) => o.loanId}
              empty={t("overdue.empty")}
              columns={[
                { key: "id", label: t("col.loan"), render: (o) => `#${o.loanId}` },
                { key: "borrower", label: t("col.borrower"), render: (o) => <Party party={o.borrower} /> },
                { key: "maturity", label: t("col.matured"), render: (o) => formatDate(o.maturity) },
                { key: "dpd", label: t("col.daysPastDue"), numeric: true, render: (o) => o.daysPastDue },
                { key: "outstanding", label: t("col.outstanding"), numeric: true, render: (o) => formatAmount(o.outstanding) },
                {
                  key: "status",
                  label: t("col.status"),
                  render: (o) =>
                    o.status === "Defaulted" ? (
                      <Badge status="Defaulted" />
                    ) : (
                      <>
                        <Badge status="Active" />{" "}
                        <span className="muted">
                          {o.defaultableAt < p.asOf
                            ? t("overdue.defaultable")
                            : t("overdue.defaultFrom", { date: formatDate(o.defaultableAt) })}
                        </span>
                      </>
                    ),
                },
              ]}
            />
          </Card>

          <Card
            title={t("maturities.title")}
            actions={
              <a href={csv("maturities")} download>
                {t("csv.maturities")}
              </a>
            }
          >
            <div className="charts">
              <BarChart
                title={t("maturities.chart")}
                empty={t("noLiveLoan")}
                bars={p.maturitiesByMonth.map((m) => ({
                  label: m.partial ? t("maturities.thisMonth", { month: monthName(m.month, lang) }) : monthName(m.month, lang),
                  value: Number(m.amount),
                  display: formatAmount(m.amount),
                }))}
              />
            </div>
            <Table
              rows={p.upcomingMaturities}
              rowKey={(u) => u.loanId}
              empty={t("maturities.empty")}
              columns={[
                { key: "id", label: t("col.loan"), render: (u) => `#${u.loanId}` },
                { key: "borrower", label: t("col.borrower"), render: (u) => <Party party={u.borrower} /> },
                { key: "maturity", label: t("col.maturity"), render: (u) => formatDate(u.maturity) },
                { key: "in", label: t("col.inDays"), numeric: true, render: (u) => u.inDays },
                { key: "outstanding", label: t("col.outstanding"), numeric: true, render: (u) => formatAmount(u.outstanding) },
              ]}
            />
          </Card>

          <Card
            title={t("collections.title")}
            actions={
              <span className="exports">
                <a href={csv("repayments")} download>
                  {t("csv.repayments")}
                </a>{" "}
                <a href={csv("receivable-payments")} download>
                  {t("csv.receivablePayments")}
                </a>
              </span>
            }
          >
            <div className="charts">
              <LineChart
                title={t("collections.chart")}
                points={p.collectionsByMonth.map((m) => ({ label: m.month, value: Number(m.amount) }))}
                format={(v) => formatAmount(String(Math.round(v)))}
              />
              <BarChart
                title={t("collections.bySource")}
                empty={t("collections.empty")}
                bars={collectedBySource(t, p.collections).map(([label, amount]) => ({
                  label,
                  value: Number(amount),
                  display: formatAmount(amount),
                }))}
              />
            </div>
            <Table
              rows={p.collections.slice(0, 50)}
              rowKey={(c) => `${c.txHash}-${c.loanId}-${c.receivableId ?? ""}`}
              empty={t("collections.empty")}
              columns={[
                { key: "at", label: t("col.date"), render: (c) => formatDate(c.at) },
                { key: "loan", label: t("col.loan"), render: (c) => `#${c.loanId}` },
                { key: "borrower", label: t("col.borrower"), render: (c) => <Party party={c.borrower} /> },
                {
                  key: "via",
                  label: t("col.from"),
                  render: (c) =>
                    c.via === "borrower" ? (
                      t("collections.byBorrower")
                    ) : (
                      <>
                        {t("collections.byReceivable", { id: c.receivableId })} <Party party={c.debtor} />
                      </>
                    ),
                },
                { key: "amount", label: t("col.amount"), numeric: true, render: (c) => formatAmount(c.amount) },
                {
                  key: "default",
                  label: t("col.afterDefault"),
                  render: (c) => (c.afterDefault ? <span className="late">{t("collections.afterDefault")}</span> : ""),
                },
              ]}
            />
          </Card>

          <Card
            title={t("loans.title")}
            actions={
              <a href={csv("loans")} download>
                {t("csv.loans")}
              </a>
            }
          >
            <Table
              caption={t("loans.caption")}
              rows={p.loans}
              rowKey={(l) => l.id}
              empty={t("loans.empty")}
              columns={[
                { key: "id", label: t("col.loan"), render: (l) => `#${l.id}` },
                { key: "borrower", label: t("col.borrower"), render: (l) => <Party party={l.borrower} /> },
                { key: "principal", label: t("col.principal"), numeric: true, render: (l) => formatAmount(l.principal) },
                { key: "rate", label: t("col.rate"), numeric: true, render: (l) => formatRate(l.rateBps) },
                { key: "repaid", label: t("col.repaid"), numeric: true, render: (l) => formatAmount(l.repaid) },
                { key: "outstanding", label: t("col.outstanding"), numeric: true, render: (l) => formatAmount(l.outstanding) },
                { key: "maturity", label: t("col.maturity"), render: (l) => formatDate(l.maturity) },
                { key: "dpd", label: t("col.daysPastDue"), numeric: true, render: (l) => l.daysPastDue ?? "—" },
                {
                  key: "collateral",
                  label: t("col.collateral"),
                  render: (l) => (
                    <ul className="collateral">
                      {l.collateral.map((c) => (
                        <li key={c.id}>
                          #{c.id} <Badge status={receivableStatusWord(c.status, c.pledged)} />
                        </li>
                      ))}
                    </ul>
                  ),
                },
                { key: "status", label: t("col.status"), render: (l) => <Badge status={l.status} /> },
              ]}
            />
          </Card>
        </>
      )}
    </div>
  );
}
