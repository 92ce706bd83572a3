/**
 * The manufacturer's room: its orders, receivables and metrics; apply for financing in five fields
 * (everything else prefilled from the chain); follow the application's 12 steps live; sign the offer.
 */
import { useState } from "react";
import { api, ApiRequestError, ROLE, SCOPES } from "../api";
import { usePartyName, useSession } from "../hooks/session";
import { awaitsConsent, grantConsent, isCancellable, signOffer, useLiveApplications, type ApplicationView } from "../hooks/applications";
import { MetricsTable, type MetricDef } from "../components/MetricsTable";
import { formatAmount, formatDate, formatMetric, formatRate, minorToInput, parseAmountInput, shortHex } from "../format";
import { tNs, useT } from "../i18n";
import { Badge, Card, Empty, ErrorBox, Loading, receivableStatusWord, Table, Tabs, useLoad } from "../components/ui";
import { LineChart } from "../components/charts";
import { Timeline } from "../components/Timeline";
import { Link } from "react-router";
import { roomFits, useRouteTab } from "../routes";
import { BorrowerConsents, BorrowerLoans, Quote } from "../components/BorrowerLoan";

export function ManufacturerRoom() {
  const session = useSession();
  const tn = useT("nav");
  const me = session.me;
  if (!me) {
    return (
      <div className="room">
        <h1>Manufacturer</h1>
        <Empty>Sign in as a supplier to see your orders, receivables and metrics, and to apply for financing.</Empty>
        {session.config.devAccounts && (
          <Card title="First time here? A tour of the demo network">
            <div className="welcome">
              <ol>
                <li>
                  In the demo account picker at the top right, choose <strong>SUPPLIER: Precision Parts Co.</strong> and press{" "}
                  <strong>Sign in</strong>.
                </li>
                <li>
                  Open <strong>Apply for financing</strong>: type an amount, choose <strong>Lingnan Commercial Bank</strong>, press{" "}
                  <strong>Apply</strong>. Watch the timeline reach “Offer issued”, then sign the offer.
                </li>
                <li>
                  Sign out, sign in as <strong>LENDER: Lingnan Commercial Bank</strong>, open the <strong>Lender</strong> room: countersign,
                  then disburse.
                </li>
                <li>
                  In the <strong>Court / auditor</strong> room (no sign-in), drop the agreement document and see the chain's verdict.
                </li>
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
        <h1>Manufacturer</h1>
        <Empty>
          This account is not a registered supplier. Sign in with a supplier account.
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
  return <SupplierHome address={me.address} />;
}

function SupplierHome({ address }: { address: string }) {
  const session = useSession();
  const [tab, setTab] = useRouteTab(
    ["overview", "apply", "applications", "loans", "consents", "orders", "receivables", "access"] as const,
    "overview",
  );
  const { apps, applications, update } = useLiveApplications("borrower", [address]);
  const tl = useT("loan");

  return (
    <div className="room">
      <h1>Manufacturer</h1>
      <Tabs
        label="Manufacturer sections"
        selected={tab}
        onSelect={setTab}
        tabs={[
          ["overview", "Overview"],
          ["apply", "Apply for financing"],
          ["applications", `Applications (${applications.length})`],
          ["loans", tl("tabs.loans")],
          ["consents", tl("tabs.consents")],
          ["orders", "Orders"],
          ["receivables", "Receivables"],
          ["access", "Access log"],
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
        <Card title="My applications">
          {apps.loading && !apps.data ? <Loading what="applications" /> : null}
          <ErrorBox error={apps.error} />
          {applications.length === 0 && !apps.loading ? <Empty>No application yet. Apply for financing to start.</Empty> : null}
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
        <div role="group" className="kpis" aria-label="Key figures">
          <Kpi label="Orders received, last 365 days" value={formatAmount(String(v.orderValue?.["365d"] ?? "0"))} />
          <Kpi label="Outstanding receivables" value={formatMetric(v.outstandingValue?.all, "minor_units")} />
          <Kpi label="On-time delivery, 365 days" value={formatMetric(v.onTimeDeliveryRate?.["365d"], "ratio")} />
          <Kpi label="Payback cycle, 365 days" value={formatMetric(v.paybackCycleMean?.["365d"], "days")} />
        </div>
      )}
      <Card title="Trends">
        {series.loading ? <Loading what="charts" /> : <ErrorBox error={series.error} />}
        {series.data && (
          <div className="charts">
            <LineChart
              title="Monthly order volume"
              points={series.data.months.map((m) => ({ label: m.month, value: Number(m.orderValue) }))}
              partialLast
              format={(v) => formatAmount(String(Math.round(v)))}
            />
            <LineChart
              title="Payback cycle (days)"
              points={series.data.months.map((m) => ({ label: m.month, value: m.paybackDaysMean }))}
              partialLast
              format={(v) => `${v.toFixed(1)} d`}
            />
            <LineChart
              title="On-time delivery rate"
              points={series.data.months.map((m) => ({ label: m.month, value: m.onTimeRate === null ? null : m.onTimeRate * 100 }))}
              partialLast
              format={(v) => `${v.toFixed(0)} %`}
            />
          </div>
        )}
      </Card>
      <Card title="My metrics, from the chain">
        {metrics.loading || defs.loading ? <Loading what="metrics" /> : null}
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
interface Prefill {
  maxAmount: string;
  minAmount: string;
  maxTermDays: number;
  requiredScopes: number;
  receivables: PrefillReceivable[];
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
  const waiting = applications.filter(awaitsConsent);
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
  const session = useSession();
  const prefill = useLoad(() => api<Prefill>("/api/applications/prefill"), [session.me?.address]);
  const [amount, setAmount] = useState("");
  const [amountTouched, setAmountTouched] = useState(false);
  const [termDays, setTermDays] = useState(90);
  const [selected, setSelected] = useState<string[] | null>(null);
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
  const free = p?.receivables.filter((r) => !r.inApplication) ?? [];
  const chosen = selected ?? free.map((r) => r.id);
  const scopeBits = scopes ?? p?.requiredScopes ?? 0;
  const chosenRows = p?.receivables.filter((r) => chosen.includes(r.id)) ?? [];
  const collateralValue = chosenRows.reduce((s, r) => s + BigInt(r.faceValue) - BigInt(r.paid), 0n);
  // The maximum follows the selection: the sum of the selected receivables' advances, as the service computes it.
  const max = chosenRows.reduce((s, r) => s + BigInt(r.advance), 0n);
  const min = BigInt(p?.minAmount ?? "0");

  if (prefill.loading) return <Loading what="your receivables" />;
  if (prefill.error) return <ErrorBox error={prefill.error} />;
  if (!p) return null;

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
      setBusy("Submitting the application…");
      const app = await api<ApplicationView>("/api/applications", {
        method: "POST",
        json: body,
        headers: { "Idempotency-Key": idempotencyKeyFor(JSON.stringify(body)) },
      });
      // Listed at once: if the consent below is cut short (a reload, a refused wallet), the application offers it again.
      onCreated(app);
      setBusy("Granting consent on chain: confirm in your wallet…");
      await grantConsent(session, app);
      sessionStorage.removeItem(APPLY_KEY);
      onApplied(app);
    } catch (err) {
      if (err instanceof ApiRequestError && (err.field === "amount" || err.field === "receivableIds")) {
        setFieldError({ field: err.field, message: err.message });
        if (err.field === "amount") document.getElementById("amount")?.focus();
      } else setError(err);
    } finally {
      setBusy("");
    }
  }

  const select = (ids: string[]) => {
    setSelected(ids);
    if (fieldError?.field === "receivableIds" || fieldError?.field === "amount") setFieldError(undefined);
  };

  return (
    <Card title="Apply for financing">
      <form className="apply" onSubmit={submit} aria-label="Loan application" noValidate>
        <aside className="prefilled" aria-label="Prefilled from the chain">
          <h3>Prefilled from the chain</h3>
          <dl>
            <dt>Company</dt>
            <dd>
              {name(session.me?.address ?? "")}
              <br />
              <code className="muted">{shortHex(session.me?.address, 6)}</code>
            </dd>
            <dt>Registered since</dt>
            <dd>{formatDate(p.participant?.admittedAt)}</dd>
            <dt>Confirmed receivables you can pledge</dt>
            <dd>{free.length}</dd>
            <dt>Collateral selected</dt>
            <dd>{formatAmount(collateralValue)}</dd>
            <dt>Maximum amount</dt>
            <dd data-testid="apply-max">{formatAmount(max)}</dd>
            <dt>Longest term</dt>
            <dd>{p.maxTermDays} days</dd>
          </dl>
          <p className="hint">The lender sees only the data your consent covers, and every read is in your access log.</p>
        </aside>
        <div className="apply-fields">
          <label htmlFor="amount">1. Amount</label>
          <div className="field">
            <span className="affix" aria-hidden="true">
              CNY
            </span>
            <input
              id="amount"
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              placeholder="e.g. 250,000.00"
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
              Use maximum
            </button>
          </div>
          {amountError && (
            <p id="amount-error" className="field-error" role="alert">
              {amountError}
            </p>
          )}
          <p id="amount-max" className="hint">
            Maximum available against the selected receivables: <strong>{formatAmount(max)}</strong>
          </p>
          <label htmlFor="term">2. Term</label>
          <select id="term" value={termDays} onChange={(e) => setTermDays(Number(e.target.value))}>
            {[30, 60, 90, 120, 180]
              .filter((d) => d <= p.maxTermDays)
              .map((d) => (
                <option key={d} value={d}>
                  {d} days
                </option>
              ))}
          </select>
          <fieldset aria-describedby={selectionError ? "receivables-error" : undefined}>
            <legend>3. Receivables to pledge (preselected)</legend>
            {p.receivables.length === 0 && <Empty>No confirmed, unpledged receivable.</Empty>}
            {p.receivables.map((r) => (
              <label key={r.id} className="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(r.id)}
                  disabled={!!r.inApplication}
                  onChange={(e) => select(e.target.checked ? [...chosen, r.id] : chosen.filter((x) => x !== r.id))}
                />
                <span className="rcv">
                  <span>Receivable #{r.id}</span>
                  <span className="num">{formatAmount(BigInt(r.faceValue) - BigInt(r.paid))}</span>
                  <span>owed by {name(r.debtor)}</span>
                  <span className="muted">due {formatDate(r.maturity)}</span>
                  <span className="muted">
                    {r.inApplication ? t("receivable.reserved") : t("receivable.allows", { amount: formatAmount(r.advance) })}
                  </span>
                </span>
              </label>
            ))}
            {selectionError && (
              <p id="receivables-error" className="field-error" role="alert">
                {selectionError}
              </p>
            )}
          </fieldset>
          <label htmlFor="lender">4. Lender</label>
          <select
            id="lender"
            value={lender}
            onChange={(e) => setLender(e.target.value)}
            aria-invalid={lenderError ? true : undefined}
            aria-describedby={lenderError ? "lender-error" : undefined}
          >
            <option value="">Choose a lender…</option>
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
            <legend>5. Consent: data the lender may use</legend>
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
                    {required ? " (required for scoring)" : ""}
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
            Apply
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
              <li key={`${r.code}-${i}`}>{r.text}</li>
            ))}
          </ul>
          <h4>{t("declined.toChange")}</h4>
          <ul className="to-change">
            {reasons.map((r, i) => (
              <li key={`${r.code}-${i}`}>{r.toChange}</li>
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
                <code className="reason-code">{r.code}</code> {r.message}
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
  const lenderName = usePartyName();
  const t = useT("apply");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState("");
  const [contestReason, setContestReason] = useState("");
  const declined = app.status === "declined";
  const changed = app.requested && app.requested.amount !== app.amount;
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
    <article className="application" data-application={app.id} aria-label={`Application ${app.id}`}>
      <header>
        <h3>
          {formatAmount(app.amount)} for {app.termDays} days
          <span className="sub">
            from {lenderName(app.lender)} · applied {formatDate(app.createdAt)}
            {changed ? t("card.asked", { amount: formatAmount(app.requested!.amount) }) : ""}
            {app.loanId ? ` · loan #${app.loanId}` : ""}
          </span>
        </h3>
        <Badge status={app.status} />
      </header>
      {awaitsConsent(app) && (
        <div className="next-step" aria-label="Next step">
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
          <dt>Automatic decision</dt>
          <dd>
            <strong>{app.decision.outcome === "refer" ? "referred to a reviewer" : app.decision.outcome}</strong> · score{" "}
            {app.decision.score} / 100 · policy {app.decision.policyVersion}
          </dd>
          <dt>Limit</dt>
          <dd>{formatAmount(app.decision.limit)}</dd>
          <dt>Rate</dt>
          <dd>{formatRate(app.review?.rateBps ?? app.decision.rateBps)} a year</dd>
          {app.review && (
            <>
              <dt>Reviewer</dt>
              <dd>
                {app.review.outcome.replace("_", " ")}: “{app.review.reason}”
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
            Download the agreement document
          </a>
          {app.status === "offer_issued" && (
            <button type="button" disabled={!!busy} onClick={() => run("Signing…", async () => onChange(await signOffer(session, app)))}>
              Sign the offer
            </button>
          )}
          {app.status === "offer_issued" && (
            <span className="hint">
              Signing asks your wallet for an EIP-712 signature of exactly these terms; nothing is sent on chain yet.
            </span>
          )}
        </div>
      )}
      {declined && !app.review && !app.lenderDecline && (
        <form
          className="actions"
          onSubmit={(e) => {
            e.preventDefault();
            void run("Sending…", async () =>
              onChange(
                await api<ApplicationView>(`/api/applications/${app.id}/contest`, { method: "POST", json: { reason: contestReason } }),
              ),
            );
          }}
        >
          <label htmlFor={`contest-${app.id}`}>Contest this decline (a person will review it)</label>
          <input
            id={`contest-${app.id}`}
            value={contestReason}
            onChange={(e) => setContestReason(e.target.value)}
            placeholder="Why the decision is wrong"
          />
          <button type="submit">Contest</button>
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
  const name = usePartyName();
  const orders = useLoad(() => api<Page<OrderView>>(`/api/enterprises/${address}/orders?limit=200`), [address]);
  return (
    <Card title="Orders" actions={orders.data ? <span className="muted">{orders.data.total.toLocaleString()} orders</span> : undefined}>
      {orders.loading ? <Loading what="orders" /> : <ErrorBox error={orders.error} />}
      {orders.data && (
        <Table
          rows={orders.data.items}
          rowKey={(o) => o.id}
          empty="No orders yet."
          caption="Trade orders where you are the supplier or the buyer, newest first"
          columns={[
            { key: "id", label: "Order", render: (o) => `#${o.id}` },
            {
              key: "party",
              label: "Counterparty",
              render: (o) => (o.supplier === address.toLowerCase() ? `${name(o.buyer)} (buyer)` : `${name(o.supplier)} (supplier)`),
            },
            { key: "amount", label: "Amount", numeric: true, render: (o) => formatAmount(o.amount) },
            { key: "created", label: "Ordered", render: (o) => formatDate(o.createdAt) },
            { key: "due", label: "Delivery due", render: (o) => formatDate(o.deliveryDue) },
            {
              key: "delivered",
              label: "Delivered",
              render: (o) =>
                o.deliveredAt ? (
                  <>
                    {formatDate(o.deliveredAt)}
                    {o.deliveredAt > o.deliveryDue ? <span className="late"> late</span> : null}
                  </>
                ) : (
                  "—"
                ),
            },
            { key: "status", label: "Status", render: (o) => <Badge status={o.status} /> },
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
  const name = usePartyName();
  const rs = useLoad(() => api<Page<ReceivableView>>(`/api/enterprises/${address}/receivables?limit=200`), [address]);
  return (
    <Card title="Receivables" actions={rs.data ? <span className="muted">{rs.data.total.toLocaleString()} receivables</span> : undefined}>
      {rs.loading ? <Loading what="receivables" /> : <ErrorBox error={rs.error} />}
      {rs.data && (
        <Table
          rows={rs.data.items}
          rowKey={(r) => r.id}
          empty="No receivables yet."
          caption="Receivables you issued or hold: issued, confirmed by the debtor, pledged to a loan, or paid"
          columns={[
            { key: "id", label: "Receivable", render: (r) => `#${r.id}` },
            { key: "order", label: "Order", render: (r) => `#${r.orderId}` },
            { key: "debtor", label: "Debtor", render: (r) => name(r.debtor) },
            { key: "face", label: "Face value", numeric: true, render: (r) => formatAmount(r.faceValue) },
            { key: "paid", label: "Paid", numeric: true, render: (r) => formatAmount(r.paid) },
            { key: "issued", label: "Issued", render: (r) => formatDate(r.issuedAt) },
            { key: "maturity", label: "Maturity", render: (r) => formatDate(r.maturity) },
            {
              key: "status",
              label: "Status",
              render: (r) => (
                <>
                  <Badge status={receivableStatus(r)} />
                  {r.pledgedLoanId && r.status === "Confirmed" ? <span className="muted"> loan #{r.pledgedLoanId}</span> : null}
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
  const name = usePartyName();
  const log = useLoad(() => api<Page<AccessEntryView>>(`/api/enterprises/${address}/access-log?limit=200`), [address]);
  const label = (key: string) => SCOPES.find((s) => s.key === key)?.label ?? key;
  return (
    <Card title="Who read my data">
      {log.loading ? <Loading what="the access log" /> : <ErrorBox error={log.error} />}
      {log.data && (
        <Table
          rows={log.data.items}
          rowKey={(e) => e.id}
          empty="Nobody has read your data yet. A lender reads it only under a consent you granted."
          caption="Every read of your data by a lender, with the consent it relied on"
          columns={[
            { key: "when", label: "When", render: (e) => new Date(e.at).toLocaleString() },
            { key: "reader", label: "Reader", render: (e) => name(e.reader) },
            { key: "scopes", label: "Data used", render: (e) => e.scopes.map(label).join(", ") },
            { key: "what", label: "What", render: (e) => <span className="muted">{e.resource}</span> },
            { key: "app", label: "For application", render: (e) => (e.applicationId ? <code>{e.applicationId.slice(0, 8)}</code> : "—") },
            { key: "consent", label: "Consent until", render: (e) => (e.consent ? formatDate(e.consent.expiresAt) : e.basis) },
          ]}
        />
      )}
    </Card>
  );
}
