/**
 * The manufacturer's room: its orders, receivables and metrics; apply for financing in five fields
 * (everything else prefilled from the chain); follow the application's 12 steps live; sign the offer.
 */
import { useState } from "react";
import { api, ApiRequestError, ROLE, SCOPES } from "../api";
import { usePartyName, useSession } from "../hooks/session";
import { awaitsConsent, grantConsent, isCancellable, signOffer, useLiveApplications, type ApplicationView } from "../hooks/applications";
import { MetricsTable, type MetricDef } from "../components/MetricsTable";
import { formatAmount, formatDate, formatDateTime, formatMetric, formatRate, minorToInput, parseAmountInput, shortHex } from "../format";
import { Badge, Card, Empty, ErrorBox, Loading, receivableStatusWord, Table, Tabs, useLoad } from "../components/ui";
import { LineChart } from "../components/charts";
import { Timeline } from "../components/Timeline";
import { formatNumber, tNs, Trans, translateKnown, useT } from "../i18n";
import { Link } from "react-router";
import { roomFits, useRouteTab } from "../routes";
import { BorrowerConsents, BorrowerLoans, Quote } from "../components/BorrowerLoan";
import { errorText, ExplainedText } from "../components/ServiceText";
import { TxHash } from "../components/TxHash";
import { WebhookSettings } from "../components/Webhook";
import { usePendingConsent, usePendingConsents } from "../hooks/pendingConsent";

export function ManufacturerRoom() {
  const t = useT("manufacturer");
  const session = useSession();
  const tn = useT("nav");
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
        <Empty>
          {t("notSupplier")}
          {roomFits("lender", me.roles) ? (
            <>
              {" "}
              <Link to="/lender">{tn("rooms.goLender")}</Link>
            </>
          ) : null}
        </Empty>
      </div>
    );
  }
  // Keyed by account: nothing one supplier selected or typed survives into another's session.
  return <SupplierHome key={me.address} address={me.address} />;
}

function SupplierHome({ address }: { address: string }) {
  const t = useT("manufacturer");
  const session = useSession();
  const [tab, setTab] = useRouteTab(
    ["overview", "apply", "applications", "loans", "consents", "orders", "receivables", "access", "webhook"] as const,
    "overview",
  );
  const { apps, applications, update } = useLiveApplications("borrower", [address]);
  const tl = useT("loan");
  const tw = useT("webhook");

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
          ["loans", tl("tabs.loans")],
          ["consents", tl("tabs.consents")],
          ["orders", t("tabs.orders")],
          ["receivables", t("tabs.receivables")],
          ["access", t("tabs.access")],
          ["webhook", tw("tab")],
        ]}
      />
      {tab === "overview" && <Overview address={address} />}
      {tab === "apply" && (
        <>
          <ResumeNotice applications={applications} onOpen={() => setTab("applications")} />
          <ApplyForm
            onApplied={(a) => {
              update(a);
              setTab("applications");
            }}
            onCreated={update}
          />
        </>
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
      {tab === "loans" && <BorrowerLoans />}
      {tab === "consents" && <BorrowerConsents />}
      {tab === "orders" && <Orders address={address} />}
      {tab === "receivables" && <Receivables address={address} />}
      {tab === "access" && <AccessLog address={address} />}
      {tab === "webhook" && <WebhookSettings />}
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
        <div role="group" className="kpis" aria-label={t("overview.kpis")}>
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
              partialLast
              format={(v) => formatAmount(String(Math.round(v)))}
            />
            <LineChart
              title={t("overview.paybackChart")}
              points={series.data.months.map((m) => ({ label: m.month, value: m.paybackDaysMean }))}
              partialLast
              format={(v) => formatMetric(v, "days")}
            />
            <LineChart
              title={t("overview.onTimeChart")}
              points={series.data.months.map((m) => ({ label: m.month, value: m.onTimeRate === null ? null : m.onTimeRate * 100 }))}
              partialLast
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

interface PrefillReceivable {
  id: string;
  faceValue: string;
  paid: string;
  debtor: string;
  maturity: number;
  orderId: string;
  /** What this receivable adds to the maximum under the policy (its advance). */
  advance: string;
  /** The live application that already pledges it: not selectable. */
  inApplication?: string;
}
/** A page of the form's receivables: the prefill's first, or `GET /api/applications/receivables?after=` for the next. */
interface ReceivablePage {
  receivables: PrefillReceivable[];
  /** Every pledgeable receivable the borrower holds, on any page. */
  receivableCount: number;
  /** How many come before this page. */
  offset: number;
  /** The `after` of the next page; absent on the last. */
  next?: string;
}
interface Prefill extends ReceivablePage {
  /** The service's preselection: what an application pledges when it names none. */
  preselected: string[];
  /** Receivables one loan pledges at most. */
  maxReceivables: number;
  maxAmount: string;
  minAmount: string;
  maxTermDays: number;
  requiredScopes: number;
  lenders: { address: string; displayNameHash: string; name?: string }[];
  participant?: { roles: number; admittedAt: number };
}

/** The amount field's problem, specific and in words; null when the amount can be applied for. */
export function amountProblem(text: string, max: bigint, min: bigint): string | null {
  const t = tNs("apply");
  if (text.trim() === "") return t("amount.empty");
  const minor = parseAmountInput(text);
  if (minor === null) return t("amount.invalid");
  if (minor <= 0n) return t("amount.notPositive");
  if (max === 0n) return t("amount.noSelection");
  if (minor > max) return t("amount.aboveMax", { max: formatAmount(max) });
  if (minor < min) return t("amount.belowMin", { min: formatAmount(min) });
  return null;
}

/** One Idempotency-Key per distinct application form: sending the same form again (after a reload) returns the first application. */
const APPLY_KEY = "scf.apply.idempotency";
function idempotencyKeyFor(payload: string): string {
  try {
    const saved = JSON.parse(sessionStorage.getItem(APPLY_KEY) ?? "null") as { payload: string; key: string } | null;
    if (saved?.payload === payload) return saved.key;
  } catch {
    // a damaged entry: a new key below
  }
  const key = crypto.randomUUID();
  sessionStorage.setItem(APPLY_KEY, JSON.stringify({ payload, key }));
  return key;
}

/** Applications waiting for the borrower's consent transaction (a reload cut the flow short): continue them, do not apply again. */
function ResumeNotice({ applications, onOpen }: { applications: ApplicationView[]; onOpen: () => void }) {
  const t = useT("apply");
  const sent = usePendingConsents();
  // An application whose consent was sent (waiting for the chain) needs nothing more from the borrower.
  const waiting = applications.filter((a) => awaitsConsent(a) && (!sent[a.id] || sent[a.id].reverted));
  if (waiting.length === 0) return null;
  return (
    <div className="notice" role="status" aria-label={t("resume.label")}>
      <p>
        {waiting.length === 1 ? t("resume.one", { amount: formatAmount(waiting[0].amount) }) : t("resume.many", { n: waiting.length })}{" "}
        {t("resume.explain")}
      </p>
      <button type="button" onClick={onOpen}>
        {t("resume.continue")}
      </button>
    </div>
  );
}

function ApplyForm({ onApplied, onCreated }: { onApplied: (a: ApplicationView) => void; onCreated: (a: ApplicationView) => void }) {
  const tm = useT("manufacturer");
  const session = useSession();
  const prefill = useLoad(() => api<Prefill>("/api/applications/prefill"), [session.me?.address]);
  const [amount, setAmount] = useState("");
  const [amountTouched, setAmountTouched] = useState(false);
  const [termDays, setTermDays] = useState(90);
  /** The selected receivables' rows, from whichever page they were ticked on (the maximum is their advances). */
  const [selected, setSelected] = useState<PrefillReceivable[] | null>(null);
  /** The `after` of each later page the borrower moved to, the current one last; empty on the first page. */
  const [pages, setPages] = useState<string[]>([]);
  const after = pages.at(-1);
  const later = useLoad(
    () =>
      after === undefined
        ? Promise.resolve(undefined)
        : api<ReceivablePage>(`/api/applications/receivables?${new URLSearchParams({ after }).toString()}`),
    [after],
  );
  const [lender, setLender] = useState("");
  const [scopes, setScopes] = useState<number | null>(null);
  const [busy, setBusy] = useState("");
  const [error, setError] = useState<unknown>();
  /** The service's refusal of a field, shown at that field until the field changes. */
  const [fieldError, setFieldError] = useState<{ field: string; message: string }>();
  const [submitted, setSubmitted] = useState(false);
  const name = usePartyName();
  const t = useT("apply");

  const p = prefill.data;
  const chosenRows = selected ?? p?.receivables.filter((r) => p.preselected.includes(r.id)) ?? [];
  const chosen = chosenRows.map((r) => r.id);
  const scopeBits = scopes ?? p?.requiredScopes ?? 0;
  const collateralValue = chosenRows.reduce((s, r) => s + BigInt(r.faceValue) - BigInt(r.paid), 0n);
  // The maximum follows the selection: the sum of the selected receivables' advances, as the service computes it.
  const max = chosenRows.reduce((s, r) => s + BigInt(r.advance), 0n);
  const min = BigInt(p?.minAmount ?? "0");

  if (prefill.loading) return <Loading what={tm("apply.loading")} />;
  if (prefill.error) return <ErrorBox error={prefill.error} />;
  if (!p) return null;

  const page: ReceivablePage | undefined = after === undefined ? p : later.data;
  /** Selected receivables not on the page shown: still pledged, and counted in the maximum. */
  const elsewhere = page ? chosenRows.filter((r) => !page.receivables.some((x) => x.id === r.id)).length : 0;
  const clientAmountError = amountTouched || submitted ? amountProblem(amount, max, min) : null;
  const amountError = fieldError?.field === "amount" ? fieldError.message : clientAmountError;
  const selectionError =
    fieldError?.field === "receivableIds" ? fieldError.message : submitted && chosen.length === 0 ? t("selection.empty") : null;
  const lenderError = submitted && !lender ? t("lender.empty") : null;

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setAmountTouched(true);
    setError(undefined);
    setFieldError(undefined);
    const minor = parseAmountInput(amount);
    if (amountProblem(amount, max, min) !== null || minor === null) return document.getElementById("amount")?.focus();
    if (chosen.length === 0 || !lender) return;
    const body = { amount: minor.toString(), termDays, lender, receivableIds: chosen, scopes: scopeBits };
    try {
      setBusy(tm("apply.busy.submitting"));
      const app = await api<ApplicationView>("/api/applications", {
        method: "POST",
        json: body,
        headers: { "Idempotency-Key": idempotencyKeyFor(JSON.stringify(body)) },
      });
      // Listed at once: if the consent below is cut short (a reload, a refused wallet), the application offers it again.
      onCreated(app);
      setBusy(tm("apply.busy.consent"));
      await grantConsent(session, app);
      sessionStorage.removeItem(APPLY_KEY);
      onApplied(app);
    } catch (err) {
      if (err instanceof ApiRequestError && (err.field === "amount" || err.field === "receivableIds")) {
        setFieldError({ field: err.field, message: errorText(err) });
        if (err.field === "amount") document.getElementById("amount")?.focus();
      } else setError(err);
    } finally {
      setBusy("");
    }
  }

  const select = (rows: PrefillReceivable[]) => {
    setSelected(rows);
    if (fieldError?.field === "receivableIds" || fieldError?.field === "amount") setFieldError(undefined);
  };

  return (
    <Card title={tm("apply.title")}>
      <form className="apply" onSubmit={submit} aria-label={tm("apply.form")} noValidate>
        <aside className="prefilled" aria-label={tm("apply.prefilled")}>
          <h3>{tm("apply.prefilled")}</h3>
          <dl>
            <dt>{tm("apply.company")}</dt>
            <dd>
              {name(session.me?.address ?? "")}
              <br />
              <code className="muted">{shortHex(session.me?.address, 6)}</code>
            </dd>
            <dt>{tm("apply.registeredSince")}</dt>
            <dd>{formatDate(p.participant?.admittedAt)}</dd>
            <dt>{tm("apply.pledgeable")}</dt>
            <dd>{formatNumber(p.receivableCount)}</dd>
            <dt>{tm("apply.collateralSelected")}</dt>
            <dd>{formatAmount(collateralValue)}</dd>
            <dt>{tm("apply.maxAmount")}</dt>
            <dd data-testid="apply-max">{formatAmount(max)}</dd>
            <dt>{tm("apply.longestTerm")}</dt>
            <dd>{tm("days", { count: p.maxTermDays })}</dd>
          </dl>
          <p className="hint">{tm("apply.consentHint")}</p>
        </aside>
        <div className="apply-fields">
          <label htmlFor="amount">{tm("apply.amount")}</label>
          <div className="field">
            <span className="affix" aria-hidden="true">
              {tm("apply.currency")}
            </span>
            <input
              id="amount"
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              placeholder={tm("apply.amountPlaceholder")}
              value={amount}
              onChange={(e) => {
                setAmount(e.target.value);
                if (fieldError?.field === "amount") setFieldError(undefined);
              }}
              onBlur={() => amount !== "" && setAmountTouched(true)}
              aria-invalid={amountError ? true : undefined}
              aria-describedby={amountError ? "amount-error amount-max" : "amount-max"}
            />
            <button
              type="button"
              className="link"
              onClick={() => {
                setAmount(minorToInput(max));
                setAmountTouched(true);
                setFieldError(undefined);
              }}
              disabled={max === 0n}
            >
              {tm("apply.useMaximum")}
            </button>
          </div>
          {amountError && (
            <p id="amount-error" className="field-error" role="alert">
              {amountError}
            </p>
          )}
          <p id="amount-max" className="hint">
            {tm("apply.maxAvailable")} <strong>{formatAmount(max)}</strong>
          </p>
          <label htmlFor="term">{tm("apply.term")}</label>
          <select id="term" value={termDays} onChange={(e) => setTermDays(Number(e.target.value))}>
            {[30, 60, 90, 120, 180]
              .filter((d) => d <= p.maxTermDays)
              .map((d) => (
                <option key={d} value={d}>
                  {tm("days", { count: d })}
                </option>
              ))}
          </select>
          <fieldset aria-describedby={selectionError ? "receivables-error" : undefined}>
            <legend>{tm("apply.receivables")}</legend>
            {p.receivableCount === 0 && <Empty>{tm("apply.noReceivables")}</Empty>}
            <p className="hint">{tm("apply.atMost", { count: p.maxReceivables })}</p>
            {page ? (
              page.receivables.map((r) => {
                const checked = chosen.includes(r.id);
                return (
                  <label key={r.id} className="check">
                    <input
                      type="checkbox"
                      checked={checked}
                      disabled={!!r.inApplication || (!checked && chosen.length >= p.maxReceivables)}
                      onChange={(e) => select(e.target.checked ? [...chosenRows, r] : chosenRows.filter((x) => x.id !== r.id))}
                    />
                    <span className="rcv">
                      <span>{tm("apply.receivable", { id: r.id })}</span>
                      <span className="num">{formatAmount(BigInt(r.faceValue) - BigInt(r.paid))}</span>
                      <span>{tm("apply.owedBy", { name: name(r.debtor) })}</span>
                      <span className="muted">{tm("apply.due", { date: formatDate(r.maturity) })}</span>
                      <span className="muted">
                        {r.inApplication ? t("receivable.reserved") : t("receivable.allows", { amount: formatAmount(r.advance) })}
                      </span>
                    </span>
                  </label>
                );
              })
            ) : later.loading ? (
              <Loading what={tm("apply.pageLoading")} />
            ) : (
              <ErrorBox error={later.error} />
            )}
            {p.next !== undefined && (
              <div className="actions pager" role="group" aria-label={tm("apply.pages")}>
                <span className="hint" aria-live="polite">
                  {page &&
                    tm("apply.page", {
                      from: formatNumber(page.offset + 1),
                      to: formatNumber(page.offset + page.receivables.length),
                      total: formatNumber(page.receivableCount),
                    })}
                  {elsewhere > 0 && ` ${tm("apply.selectedElsewhere", { count: elsewhere })}`}
                </span>
                <button type="button" disabled={pages.length === 0} onClick={() => setPages(pages.slice(0, -1))}>
                  {tm("apply.previousPage")}
                </button>
                <button type="button" disabled={!page?.next} onClick={() => page?.next && setPages([...pages, page.next])}>
                  {tm("apply.nextPage")}
                </button>
              </div>
            )}
            {selectionError && (
              <p id="receivables-error" className="field-error" role="alert">
                {selectionError}
              </p>
            )}
          </fieldset>
          <label htmlFor="lender">{tm("apply.lender")}</label>
          <select
            id="lender"
            value={lender}
            onChange={(e) => setLender(e.target.value)}
            aria-invalid={lenderError ? true : undefined}
            aria-describedby={lenderError ? "lender-error" : undefined}
          >
            <option value="">{tm("apply.chooseLender")}</option>
            {p.lenders.map((l) => (
              <option key={l.address} value={l.address}>
                {name(l.address)}
              </option>
            ))}
          </select>
          {lenderError && (
            <p id="lender-error" className="field-error" role="alert">
              {lenderError}
            </p>
          )}
          <fieldset>
            <legend>{tm("apply.consent")}</legend>
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
                    {required ? ` ${tm("apply.requiredForScoring")}` : ""}
                  </label>
                );
              })}
            </div>
          </fieldset>
          <Quote amount={parseAmountInput(amount)} termDays={termDays} receivableIds={chosen} lender={lender} />
          <ErrorBox error={error} />
          {busy && (
            <p className="state loading" role="status">
              {busy}
            </p>
          )}
          <button type="submit" className="primary" disabled={!!busy}>
            {tm("apply.submit")}
          </button>
        </div>
      </form>
    </Card>
  );
}

/** A decline, led by its reasons in words and what would change the outcome; the internal codes only as details. */
function DeclineExplained({ app }: { app: ApplicationView }) {
  const name = usePartyName();
  const t = useT("apply");
  const reasons = app.explanation?.reasons ?? [];
  const byReviewer = app.review?.outcome === "decline" ? app.review : undefined;
  return (
    <section className="explained" aria-label={t("declined.label")}>
      <h4>{t("declined.title")}</h4>
      {app.lenderDecline && <p>{t("declined.byLender", { lender: name(app.lender), reason: app.lenderDecline.reason })}</p>}
      {byReviewer && <p>{t("declined.byReviewer", { reviewer: name(byReviewer.reviewer), reason: byReviewer.reason })}</p>}
      {reasons.length > 0 && (
        <>
          {(app.lenderDecline || byReviewer) && <p className="muted">{t("declined.automaticBefore")}</p>}
          <ul className="why">
            {reasons.map((r, i) => (
              <li key={`${r.code}-${i}`}>
                <ExplainedText reason={r} part="text" />
              </li>
            ))}
          </ul>
          <h4>{t("declined.toChange")}</h4>
          <ul className="to-change">
            {reasons.map((r, i) => (
              <li key={`${r.code}-${i}`}>
                <ExplainedText reason={r} part="toChange" />
              </li>
            ))}
          </ul>
        </>
      )}
      {app.decision && (
        <details>
          <summary>{t("declined.details")}</summary>
          <p>{t("declined.score", { score: app.decision.score, policy: app.decision.policyVersion })}</p>
          <ul>
            {app.decision.reasons.map((r, i) => (
              <li key={`${r.code}-${i}`}>
                <code className="reason-code">{r.code}</code> <span lang="en">{r.message}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
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
  const tm = useT("manufacturer");
  const lenderName = usePartyName();
  const t = useT("apply");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState("");
  const [contestReason, setContestReason] = useState("");
  const declined = app.status === "declined";
  const changed = app.requested && app.requested.amount !== app.amount;
  const pendingConsent = usePendingConsent(session.config, app.id, awaitsConsent(app));
  /** Sent and not reverted: the chain and the index are what the application waits for, not the borrower. */
  const sentConsent = pendingConsent && !pendingConsent.reverted ? pendingConsent : undefined;
  async function run(label: string, fn: () => Promise<void>) {
    setBusy(label);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy("");
    }
  }
  return (
    <article className="application" data-application={app.id} aria-label={tm("card.label", { id: app.id })}>
      <header>
        <h3>
          {tm("card.heading", { amount: formatAmount(app.amount), count: app.termDays })}
          <span className="sub">
            {tm("card.sub", { lender: lenderName(app.lender), date: formatDate(app.createdAt) })}
            {changed ? t("card.asked", { amount: formatAmount(app.requested!.amount) }) : ""}
            {app.loanId ? ` · ${tm("card.loan", { id: app.loanId })}` : ""}
          </span>
        </h3>
        <Badge status={app.status} />
      </header>
      {sentConsent && (
        <div className="next-step pending-consent" role="status" aria-label={tm("card.nextStep")} data-consent-tx={sentConsent.hash}>
          <p>{t("consent.pending")}</p>
          <p className="tx">
            {t("consent.tx")} <TxHash hash={sentConsent.hash} full className="tx-hash" />
          </p>
        </div>
      )}
      {awaitsConsent(app) && !sentConsent && (
        <div className="next-step" aria-label={tm("card.nextStep")}>
          {pendingConsent?.reverted && (
            <p className="state error" role="alert">
              {t("consent.reverted")}
            </p>
          )}
          <p>{t("consent.missing")}</p>
          <button
            type="button"
            className="primary"
            disabled={!!busy}
            onClick={() => run(t("consent.granting"), () => grantConsent(session, app))}
          >
            {t("consent.grant")}
          </button>
        </div>
      )}
      {declined && <DeclineExplained app={app} />}
      <Timeline steps={app.steps} timeline={app.timeline} />
      {app.decision && !declined && app.status !== "withdrawn" && (
        <dl className="decision">
          <dt>{tm("card.decision")}</dt>
          <dd>
            <strong>{translateKnown("manufacturer", `card.outcome.${app.decision.outcome}`, app.decision.outcome)}</strong> ·{" "}
            {tm("card.score", { score: app.decision.score, policy: app.decision.policyVersion })}
          </dd>
          <dt>{tm("card.limit")}</dt>
          <dd>{formatAmount(app.decision.limit)}</dd>
          <dt>{tm("card.rate")}</dt>
          <dd>{tm("card.perYear", { rate: formatRate(app.review?.rateBps ?? app.decision.rateBps) })}</dd>
          {app.review && (
            <>
              <dt>{tm("card.reviewer")}</dt>
              <dd>
                {translateKnown("manufacturer", `card.review.${app.review.outcome}`, app.review.outcome.replace("_", " "))}: “
                {app.review.reason}”
              </dd>
            </>
          )}
          {app.review?.limitOverride && (
            <>
              <dt>{t("override.term")}</dt>
              <dd className="override">
                {t("override.text", { limit: formatAmount(app.review.limitOverride.limit), reason: app.review.limitOverride.reason })}
              </dd>
            </>
          )}
        </dl>
      )}
      {app.offer && !declined && app.status !== "withdrawn" && app.status !== "expired" && (
        <div className="actions">
          <a href={`/api/applications/${app.id}/agreement-document`} download>
            {tm("card.download")}
          </a>
          {app.status === "offer_issued" && (
            <button
              type="button"
              disabled={!!busy}
              onClick={() => run(tm("card.signing"), async () => onChange(await signOffer(session, app)))}
            >
              {tm("card.sign")}
            </button>
          )}
          {app.status === "offer_issued" && <span className="hint">{tm("card.signHint")}</span>}
        </div>
      )}
      {declined && !app.review && !app.lenderDecline && (
        <form
          className="actions"
          onSubmit={(e) => {
            e.preventDefault();
            void run(tm("card.sending"), async () =>
              onChange(
                await api<ApplicationView>(`/api/applications/${app.id}/contest`, { method: "POST", json: { reason: contestReason } }),
              ),
            );
          }}
        >
          <label htmlFor={`contest-${app.id}`}>{tm("card.contest")}</label>
          <input
            id={`contest-${app.id}`}
            value={contestReason}
            onChange={(e) => setContestReason(e.target.value)}
            placeholder={tm("card.contestPlaceholder")}
          />
          <button type="submit">{tm("card.contestSubmit")}</button>
        </form>
      )}
      {isCancellable(app) && (
        <div className="actions">
          <button
            type="button"
            className="link"
            disabled={!!busy}
            onClick={() =>
              run(t("withdraw.busy"), async () =>
                onChange(await api<ApplicationView>(`/api/applications/${app.id}/withdraw`, { method: "POST", json: {} })),
              )
            }
          >
            {t("withdraw.button")}
          </button>
        </div>
      )}
      {busy && (
        <p className="state loading" role="status">
          {busy}
        </p>
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
  return receivableStatusWord(r.status, r.pledgedLoanId !== undefined);
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
