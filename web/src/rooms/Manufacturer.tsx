/**
 * The manufacturer's room: its orders, receivables and metrics; apply for financing in five fields
 * (everything else prefilled from the chain); follow the application's 12 steps live; sign the offer.
 */
import { useState } from "react";
import { api, ROLE, SCOPES } from "../api";
import { usePartyName, useSession } from "../hooks/session";
import { signOffer, useLiveApplications, type ApplicationView } from "../hooks/applications";
import { MetricsTable, type MetricDef } from "../components/MetricsTable";
import { ABI } from "../contracts";
import { DAY } from "../../../node-service/src/domain/time";
import { formatAmount, formatDate, formatDateTime, formatMetric, formatRate, minorToInput, parseAmountInput, shortHex } from "../format";
import { publicClientOf } from "../wallet";
import { Badge, Card, Empty, ErrorBox, Loading, Table, Tabs, useLoad } from "../components/ui";
import { LineChart } from "../components/charts";
import { Timeline } from "../components/Timeline";
import { formatNumber, Trans, translateKnown, useT } from "../i18n";

export function ManufacturerRoom() {
  const t = useT("manufacturer");
  const session = useSession();
  const me = session.me;
  if (!me) {
    return (
      <div className="room">
        <h1>{t("title")}</h1>
        <Empty>{t("signInPrompt")}</Empty>
        {session.config.devAccounts && (
          <Card title={t("tour.title")}>
            <div className="welcome">
              <ol>
                {(["step1", "step2", "step3", "step4"] as const).map((step) => (
                  <li key={step}>
                    <Trans t={t} i18nKey={`tour.${step}`} components={{ b: <strong /> }} />
                  </li>
                ))}
              </ol>
            </div>
          </Card>
        )}
      </div>
    );
  }
  if ((me.roles & ROLE.SUPPLIER) === 0) {
    return (
      <div className="room">
        <h1>{t("title")}</h1>
        <Empty>{t("notSupplier")}</Empty>
      </div>
    );
  }
  return <SupplierHome address={me.address} />;
}

function SupplierHome({ address }: { address: string }) {
  const t = useT("manufacturer");
  const session = useSession();
  const [tab, setTab] = useState<"overview" | "apply" | "applications" | "orders" | "receivables" | "access">("overview");
  const { apps, applications, update } = useLiveApplications("borrower", [address]);

  return (
    <div className="room">
      <h1>{t("title")}</h1>
      <Tabs
        label={t("tabs.label")}
        selected={tab}
        onSelect={setTab}
        tabs={[
          ["overview", t("tabs.overview")],
          ["apply", t("tabs.apply")],
          ["applications", t("tabs.applications", { count: applications.length })],
          ["orders", t("tabs.orders")],
          ["receivables", t("tabs.receivables")],
          ["access", t("tabs.access")],
        ]}
      />
      {tab === "overview" && <Overview address={address} />}
      {tab === "apply" && (
        <ApplyForm
          onApplied={(a) => {
            update(a);
            setTab("applications");
          }}
        />
      )}
      {tab === "applications" && (
        <Card title={t("applications.title")}>
          {apps.loading && !apps.data ? <Loading what={t("applications.loading")} /> : null}
          <ErrorBox error={apps.error} />
          {applications.length === 0 && !apps.loading ? <Empty>{t("applications.empty")}</Empty> : null}
          {applications.map((a) => (
            <BorrowerApplication key={a.id} app={a} onChange={update} session={session} />
          ))}
        </Card>
      )}
      {tab === "orders" && <Orders address={address} />}
      {tab === "receivables" && <Receivables address={address} />}
      {tab === "access" && <AccessLog address={address} />}
    </div>
  );
}

function Kpi({ label, value }: { label: string; value: string }) {
  return (
    <div className="kpi">
      <span className="kpi-label">{label}</span>
      <span className="kpi-value">{value}</span>
    </div>
  );
}

function Overview({ address }: { address: string }) {
  const t = useT("manufacturer");
  const defs = useLoad(() => api<{ definitions: MetricDef[] }>("/api/metrics/definitions"), []);
  const metrics = useLoad(
    () => api<{ values: Record<string, Record<string, unknown>>; asOf: number }>(`/api/enterprises/${address}/metrics`),
    [address],
  );
  const series = useLoad(
    () =>
      api<{
        months: { month: string; orderValue: string; orderCount: number; onTimeRate: number | null; paybackDaysMean: number | null }[];
      }>(`/api/enterprises/${address}/series`),
    [address],
  );
  const v = metrics.data?.values;
  return (
    <>
      {v && (
        <div className="kpis" aria-label={t("overview.kpis")}>
          <Kpi label={t("overview.ordersReceived")} value={formatAmount(String(v.orderValue?.["365d"] ?? "0"))} />
          <Kpi label={t("overview.outstanding")} value={formatMetric(v.outstandingValue?.all, "minor_units")} />
          <Kpi label={t("overview.onTime")} value={formatMetric(v.onTimeDeliveryRate?.["365d"], "ratio")} />
          <Kpi label={t("overview.payback")} value={formatMetric(v.paybackCycleMean?.["365d"], "days")} />
        </div>
      )}
      <Card title={t("overview.trends")}>
        {series.loading ? <Loading what={t("overview.charts")} /> : <ErrorBox error={series.error} />}
        {series.data && (
          <div className="charts">
            <LineChart
              title={t("overview.orderVolume")}
              points={series.data.months.map((m) => ({ label: m.month, value: Number(m.orderValue) }))}
              format={(v) => formatAmount(String(Math.round(v)))}
            />
            <LineChart
              title={t("overview.paybackChart")}
              points={series.data.months.map((m) => ({ label: m.month, value: m.paybackDaysMean }))}
              format={(v) => formatMetric(v, "days")}
            />
            <LineChart
              title={t("overview.onTimeChart")}
              points={series.data.months.map((m) => ({ label: m.month, value: m.onTimeRate === null ? null : m.onTimeRate * 100 }))}
              format={(v) => t("overview.percent", { value: v.toFixed(0) })}
            />
          </div>
        )}
      </Card>
      <Card title={t("overview.metrics")}>
        {metrics.loading || defs.loading ? <Loading what={t("overview.metricsLoading")} /> : null}
        <ErrorBox error={metrics.error ?? defs.error} />
        {metrics.data && defs.data && <MetricsTable defs={defs.data.definitions} values={metrics.data.values} />}
      </Card>
    </>
  );
}

interface Prefill {
  maxAmount: string;
  maxTermDays: number;
  requiredScopes: number;
  receivables: { id: string; faceValue: string; paid: string; debtor: string; maturity: number; orderId: string }[];
  lenders: { address: string; displayNameHash: string; name?: string }[];
  participant?: { roles: number; admittedAt: number };
}

function ApplyForm({ onApplied }: { onApplied: (a: ApplicationView) => void }) {
  const t = useT("manufacturer");
  const session = useSession();
  const prefill = useLoad(() => api<Prefill>("/api/applications/prefill"), [session.me?.address]);
  const [amount, setAmount] = useState("");
  const [termDays, setTermDays] = useState(90);
  const [selected, setSelected] = useState<string[] | null>(null);
  const [lender, setLender] = useState("");
  const [scopes, setScopes] = useState<number | null>(null);
  const [busy, setBusy] = useState("");
  const [error, setError] = useState<unknown>();

  const p = prefill.data;
  const chosen = selected ?? p?.receivables.map((r) => r.id) ?? [];
  const scopeBits = scopes ?? p?.requiredScopes ?? 0;
  const collateralValue =
    p?.receivables.filter((r) => chosen.includes(r.id)).reduce((s, r) => s + BigInt(r.faceValue) - BigInt(r.paid), 0n) ?? 0n;
  const name = usePartyName();

  if (prefill.loading) return <Loading what={t("apply.loading")} />;
  if (prefill.error) return <ErrorBox error={prefill.error} />;
  if (!p) return null;

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(undefined);
    const minor = parseAmountInput(amount);
    if (minor === null || minor <= 0n) return setError(new Error(t("apply.errors.amount")));
    if (!lender) return setError(new Error(t("apply.errors.lender")));
    try {
      setBusy(t("apply.busy.submitting"));
      const app = await api<ApplicationView>("/api/applications", {
        method: "POST",
        json: { amount: minor.toString(), termDays, lender, receivableIds: chosen, scopes: scopeBits },
      });
      setBusy(t("apply.busy.consent"));
      const wallet = session.wallet;
      if (!wallet) throw new Error(t("apply.errors.wallet"));
      const expiry = BigInt(Math.floor(Date.now() / 1000) + 180 * DAY);
      const hash = await wallet.client.writeContract({
        account: wallet.account,
        chain: wallet.client.chain,
        address: session.config.contracts.ConsentRegistry,
        abi: ABI.ConsentRegistry,
        functionName: "grant",
        args: [lender, scopeBits, expiry, app.purpose],
      });
      await publicClientOf(session.config).waitForTransactionReceipt({ hash });
      onApplied(app);
    } catch (err) {
      setError(err);
    } finally {
      setBusy("");
    }
  }

  return (
    <Card title={t("apply.title")}>
      <form className="apply" onSubmit={submit} aria-label={t("apply.form")}>
        <aside className="prefilled" aria-label={t("apply.prefilled")}>
          <h3>{t("apply.prefilled")}</h3>
          <dl>
            <dt>{t("apply.company")}</dt>
            <dd>
              {name(session.me?.address ?? "")}
              <br />
              <code className="muted">{shortHex(session.me?.address, 6)}</code>
            </dd>
            <dt>{t("apply.registeredSince")}</dt>
            <dd>{formatDate(p.participant?.admittedAt)}</dd>
            <dt>{t("apply.pledgeable")}</dt>
            <dd>{p.receivables.length}</dd>
            <dt>{t("apply.collateralSelected")}</dt>
            <dd>{formatAmount(collateralValue)}</dd>
            <dt>{t("apply.maxAmount")}</dt>
            <dd>{formatAmount(p.maxAmount)}</dd>
            <dt>{t("apply.longestTerm")}</dt>
            <dd>{t("days", { count: p.maxTermDays })}</dd>
          </dl>
          <p className="hint">{t("apply.consentHint")}</p>
        </aside>
        <div className="apply-fields">
          <label htmlFor="amount">{t("apply.amount")}</label>
          <div className="field">
            <span className="affix" aria-hidden="true">
              {t("apply.currency")}
            </span>
            <input
              id="amount"
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              placeholder={t("apply.amountPlaceholder")}
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              aria-describedby="amount-max"
            />
            <button type="button" className="link" onClick={() => setAmount(minorToInput(p.maxAmount))}>
              {t("apply.useMaximum")}
            </button>
          </div>
          <p id="amount-max" className="hint">
            {t("apply.maxAvailable")} <strong>{formatAmount(p.maxAmount)}</strong>
          </p>
          <label htmlFor="term">{t("apply.term")}</label>
          <select id="term" value={termDays} onChange={(e) => setTermDays(Number(e.target.value))}>
            {[30, 60, 90, 120, 180]
              .filter((d) => d <= p.maxTermDays)
              .map((d) => (
                <option key={d} value={d}>
                  {t("days", { count: d })}
                </option>
              ))}
          </select>
          <fieldset>
            <legend>{t("apply.receivables")}</legend>
            {p.receivables.length === 0 && <Empty>{t("apply.noReceivables")}</Empty>}
            {p.receivables.map((r) => (
              <label key={r.id} className="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(r.id)}
                  onChange={(e) => setSelected(e.target.checked ? [...chosen, r.id] : chosen.filter((x) => x !== r.id))}
                />
                <span className="rcv">
                  <span>{t("apply.receivable", { id: r.id })}</span>
                  <span className="num">{formatAmount(BigInt(r.faceValue) - BigInt(r.paid))}</span>
                  <span>{t("apply.owedBy", { name: name(r.debtor) })}</span>
                  <span className="muted">{t("apply.due", { date: formatDate(r.maturity) })}</span>
                </span>
              </label>
            ))}
          </fieldset>
          <label htmlFor="lender">{t("apply.lender")}</label>
          <select id="lender" value={lender} onChange={(e) => setLender(e.target.value)}>
            <option value="">{t("apply.chooseLender")}</option>
            {p.lenders.map((l) => (
              <option key={l.address} value={l.address}>
                {name(l.address)}
              </option>
            ))}
          </select>
          <fieldset>
            <legend>{t("apply.consent")}</legend>
            <div className="scopes">
              {SCOPES.map((s) => {
                const required = (p.requiredScopes & s.bit) !== 0;
                return (
                  <label key={s.key} className="check">
                    <input
                      type="checkbox"
                      checked={(scopeBits & s.bit) !== 0}
                      disabled={required}
                      onChange={(e) => setScopes(e.target.checked ? scopeBits | s.bit : scopeBits & ~s.bit)}
                    />
                    {s.label}
                    {required ? ` ${t("apply.requiredForScoring")}` : ""}
                  </label>
                );
              })}
            </div>
          </fieldset>
          <ErrorBox error={error} />
          {busy && (
            <p className="state loading" role="status">
              {busy}
            </p>
          )}
          <button type="submit" className="primary" disabled={!!busy}>
            {t("apply.submit")}
          </button>
        </div>
      </form>
    </Card>
  );
}

function BorrowerApplication({
  app,
  onChange,
  session,
}: {
  app: ApplicationView;
  onChange: (a: ApplicationView) => void;
  session: ReturnType<typeof useSession>;
}) {
  const t = useT("manufacturer");
  const lenderName = usePartyName();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [contestReason, setContestReason] = useState("");
  return (
    <article className="application" data-application={app.id} aria-label={t("card.label", { id: app.id })}>
      <header>
        <h3>
          {t("card.heading", { amount: formatAmount(app.amount), count: app.termDays })}
          <span className="sub">
            {t("card.sub", { lender: lenderName(app.lender), date: formatDate(app.createdAt) })}
            {app.loanId ? ` · ${t("card.loan", { id: app.loanId })}` : ""}
          </span>
        </h3>
        <Badge status={app.status} />
      </header>
      <Timeline steps={app.steps} timeline={app.timeline} />
      {app.decision && (
        <dl className="decision">
          <dt>{t("card.decision")}</dt>
          <dd>
            <strong>{translateKnown("manufacturer", `card.outcome.${app.decision.outcome}`, app.decision.outcome)}</strong> ·{" "}
            {t("card.score", { score: app.decision.score, policy: app.decision.policyVersion })}
          </dd>
          <dt>{t("card.limit")}</dt>
          <dd>{formatAmount(app.decision.limit)}</dd>
          <dt>{t("card.rate")}</dt>
          <dd>{t("card.perYear", { rate: formatRate(app.review?.rateBps ?? app.decision.rateBps) })}</dd>
          {app.review && (
            <>
              <dt>{t("card.reviewer")}</dt>
              <dd>
                {translateKnown("manufacturer", `card.review.${app.review.outcome}`, app.review.outcome.replace("_", " "))}: “
                {app.review.reason}”
              </dd>
            </>
          )}
        </dl>
      )}
      {app.offer && (
        <div className="actions">
          <a href={`/api/applications/${app.id}/agreement-document`} download>
            {t("card.download")}
          </a>
          {app.status === "offer_issued" && (
            <button
              type="button"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setError(undefined);
                try {
                  onChange(await signOffer(session, app));
                } catch (e) {
                  setError(e);
                } finally {
                  setBusy(false);
                }
              }}
            >
              {t("card.sign")}
            </button>
          )}
          {app.status === "offer_issued" && <span className="hint">{t("card.signHint")}</span>}
        </div>
      )}
      {app.status === "declined" && !app.review && (
        <form
          className="actions"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              onChange(
                await api<ApplicationView>(`/api/applications/${app.id}/contest`, { method: "POST", json: { reason: contestReason } }),
              );
            } catch (err) {
              setError(err);
            }
          }}
        >
          <label htmlFor={`contest-${app.id}`}>{t("card.contest")}</label>
          <input
            id={`contest-${app.id}`}
            value={contestReason}
            onChange={(e) => setContestReason(e.target.value)}
            placeholder={t("card.contestPlaceholder")}
          />
          <button type="submit">{t("card.contestSubmit")}</button>
        </form>
      )}
      <ErrorBox error={error} />
    </article>
  );
}

interface Page<T> {
  total: number;
  items: T[];
}
interface OrderView {
  id: string;
  buyer: string;
  supplier: string;
  amount: string;
  status: string;
  createdAt: number;
  deliveryDue: number;
  deliveredAt?: number;
  disputes?: unknown[];
}
interface ReceivableView {
  id: string;
  orderId: string;
  issuer: string;
  debtor: string;
  holder: string;
  faceValue: string;
  paid: string;
  maturity: number;
  issuedAt: number;
  status: string;
  pledgedLoanId?: string;
}

function Orders({ address }: { address: string }) {
  const t = useT("manufacturer");
  const name = usePartyName();
  const orders = useLoad(() => api<Page<OrderView>>(`/api/enterprises/${address}/orders?limit=200`), [address]);
  return (
    <Card
      title={t("orders.title")}
      actions={
        orders.data ? (
          <span className="muted">{t("orders.count", { count: orders.data.total, n: formatNumber(orders.data.total) })}</span>
        ) : undefined
      }
    >
      {orders.loading ? <Loading what={t("orders.loading")} /> : <ErrorBox error={orders.error} />}
      {orders.data && (
        <Table
          rows={orders.data.items}
          rowKey={(o) => o.id}
          empty={t("orders.empty")}
          caption={t("orders.caption")}
          columns={[
            { key: "id", label: t("orders.order"), render: (o) => `#${o.id}` },
            {
              key: "party",
              label: t("orders.counterparty"),
              render: (o) =>
                o.supplier === address.toLowerCase()
                  ? t("orders.asBuyer", { name: name(o.buyer) })
                  : t("orders.asSupplier", { name: name(o.supplier) }),
            },
            { key: "amount", label: t("orders.amount"), numeric: true, render: (o) => formatAmount(o.amount) },
            { key: "created", label: t("orders.ordered"), render: (o) => formatDate(o.createdAt) },
            { key: "due", label: t("orders.deliveryDue"), render: (o) => formatDate(o.deliveryDue) },
            {
              key: "delivered",
              label: t("orders.delivered"),
              render: (o) =>
                o.deliveredAt ? (
                  <>
                    {formatDate(o.deliveredAt)}
                    {o.deliveredAt > o.deliveryDue ? <span className="late"> {t("orders.late")}</span> : null}
                  </>
                ) : (
                  "—"
                ),
            },
            { key: "status", label: t("orders.status"), render: (o) => <Badge status={o.status} /> },
          ]}
        />
      )}
    </Card>
  );
}

/** Issued, confirmed (acknowledged by the debtor), pledged (to a loan) or paid. */
function receivableStatus(r: ReceivableView): string {
  if (r.status === "Confirmed" && r.pledgedLoanId) return "Pledged";
  return r.status;
}

function Receivables({ address }: { address: string }) {
  const t = useT("manufacturer");
  const name = usePartyName();
  const rs = useLoad(() => api<Page<ReceivableView>>(`/api/enterprises/${address}/receivables?limit=200`), [address]);
  return (
    <Card
      title={t("receivables.title")}
      actions={
        rs.data ? (
          <span className="muted">{t("receivables.count", { count: rs.data.total, n: formatNumber(rs.data.total) })}</span>
        ) : undefined
      }
    >
      {rs.loading ? <Loading what={t("receivables.loading")} /> : <ErrorBox error={rs.error} />}
      {rs.data && (
        <Table
          rows={rs.data.items}
          rowKey={(r) => r.id}
          empty={t("receivables.empty")}
          caption={t("receivables.caption")}
          columns={[
            { key: "id", label: t("receivables.receivable"), render: (r) => `#${r.id}` },
            { key: "order", label: t("receivables.order"), render: (r) => `#${r.orderId}` },
            { key: "debtor", label: t("receivables.debtor"), render: (r) => name(r.debtor) },
            { key: "face", label: t("receivables.faceValue"), numeric: true, render: (r) => formatAmount(r.faceValue) },
            { key: "paid", label: t("receivables.paid"), numeric: true, render: (r) => formatAmount(r.paid) },
            { key: "issued", label: t("receivables.issued"), render: (r) => formatDate(r.issuedAt) },
            { key: "maturity", label: t("receivables.maturity"), render: (r) => formatDate(r.maturity) },
            {
              key: "status",
              label: t("receivables.status"),
              render: (r) => (
                <>
                  <Badge status={receivableStatus(r)} />
                  {r.pledgedLoanId && r.status === "Confirmed" ? (
                    <span className="muted"> {t("receivables.loan", { id: r.pledgedLoanId })}</span>
                  ) : null}
                </>
              ),
            },
          ]}
        />
      )}
    </Card>
  );
}

interface AccessEntryView {
  id: string;
  at: string;
  reader: string;
  basis: string;
  scopes: string[];
  resource: string;
  applicationId?: string;
  consent?: { grantedAt: number; expiresAt: number };
}

function AccessLog({ address }: { address: string }) {
  const t = useT("manufacturer");
  const name = usePartyName();
  const log = useLoad(() => api<Page<AccessEntryView>>(`/api/enterprises/${address}/access-log?limit=200`), [address]);
  const label = (key: string) => SCOPES.find((s) => s.key === key)?.label ?? key;
  return (
    <Card title={t("access.title")}>
      {log.loading ? <Loading what={t("access.loading")} /> : <ErrorBox error={log.error} />}
      {log.data && (
        <Table
          rows={log.data.items}
          rowKey={(e) => e.id}
          empty={t("access.empty")}
          caption={t("access.caption")}
          columns={[
            { key: "when", label: t("access.when"), render: (e) => formatDateTime(Date.parse(e.at) / 1000) },
            { key: "reader", label: t("access.reader"), render: (e) => name(e.reader) },
            { key: "scopes", label: t("access.scopes"), render: (e) => e.scopes.map(label).join(t("access.listSeparator")) },
            {
              key: "what",
              label: t("access.what"),
              render: (e) => (
                <span className="muted" lang="en">
                  {e.resource}
                </span>
              ),
            },
            {
              key: "app",
              label: t("access.application"),
              render: (e) => (e.applicationId ? <code>{e.applicationId.slice(0, 8)}</code> : "—"),
            },
            {
              key: "consent",
              label: t("access.consentUntil"),
              render: (e) =>
                e.consent ? formatDate(e.consent.expiresAt) : translateKnown("manufacturer", `access.basis.${e.basis}`, e.basis),
            },
          ]}
        />
      )}
    </Card>
  );
}
