/**
 * The lender's room: the application queue; one application with the metrics its consent allows (and
 * what is hidden), risk flags with their events, score and reasons; review with a mandatory reason;
 * countersign; disburse; the live portfolio with CSV export; the back-test of a policy over history
 * beside the policy in force (with CSV export). An application leads with the indicators the policy
 * used, their values and the policy's thresholds, before the full metrics table.
 */
import { DecisionReasonText, FlagSummary, IndicatorThreshold } from "../components/ServiceText";
import { TxHash } from "../components/TxHash";
import { Fragment, useState } from "react";
import { api, ROLE, SCOPES } from "../api";
import { usePartyName, useSession } from "../hooks/session";
import { ABI } from "../contracts";
import { formatAmount, formatDate, formatDateTime, formatMetric, formatRate, shortHex } from "../format";
import { publicClientOf } from "../wallet";
import { Badge, Card, Empty, ErrorBox, Loading, Table, Tabs, useLoad } from "../components/ui";
import { Timeline } from "../components/Timeline";
import { isCancellable, signOffer, useLiveApplications, type ApplicationView } from "../hooks/applications";
import { DeclineForm, ReviewForm } from "../components/ReviewForm";
import { MetricsTable, type MetricDef } from "../components/MetricsTable";
import { Portfolio } from "../components/Portfolio";
import { Link, useSearchParams } from "react-router";
import { roomFits, useRouteTab } from "../routes";
import { WebhookSettings } from "../components/Webhook";
import { currentLanguage, formatNumber, translateKnown, useT } from "../i18n";

const STATUSES = ["", "in_review", "offer_issued", "signed_by_borrower", "countersigned_notarized", "disbursed", "closed", "declined"];

export function LenderRoom() {
  const t = useT("lender");
  const session = useSession();
  const tn = useT("nav");
  if (!session.me) {
    return (
      <div className="room">
        <h1>{t("title")}</h1>
        <Empty>{t("signInPrompt")}</Empty>
      </div>
    );
  }
  if ((session.me.roles & ROLE.LENDER) === 0) {
    return (
      <div className="room">
        <h1>{t("title")}</h1>
        <Empty>
          {t("notLender")}
          {roomFits("manufacturer", session.me.roles) ? (
            <>
              {" "}
              <Link to="/manufacturer">{tn("rooms.goManufacturer")}</Link>
            </>
          ) : null}
        </Empty>
      </div>
    );
  }
  return <LenderHome />;
}

function LenderHome() {
  const t = useT("lender");
  const tc = useT("common");
  const [status, setStatus] = useState("");
  // The open application is in the URL too (?application=<id>): a reload or a link reopens it.
  const [params, setParams] = useSearchParams();
  const openId = params.get("application") ?? undefined;
  const setOpenId = (id: string) => setParams({ application: id });
  const [tab, setTab] = useRouteTab(["queue", "portfolio", "backtest", "webhook"] as const, "queue");
  const tw = useT("webhook");
  const { apps, applications: all, update } = useLiveApplications("lender", []);
  const rows = all.filter((a) => !status || a.status === status);
  const open = all.find((a) => a.id === openId);
  const demoName = usePartyName();

  return (
    <div className="room">
      <h1>{t("title")}</h1>
      <Tabs
        label={t("tabs.label")}
        selected={tab}
        onSelect={setTab}
        tabs={[
          ["queue", t("tabs.queue")],
          ["portfolio", t("tabs.portfolio")],
          ["backtest", t("tabs.backtest")],
          ["webhook", tw("tab")],
        ]}
      />
      {tab === "portfolio" && <Portfolio />}
      {tab === "backtest" && <Backtest />}
      {tab === "webhook" && <WebhookSettings />}
      {tab === "queue" && (
        <>
          <Card
            title={t("queue.title")}
            actions={
              <label className="inline">
                {t("queue.status")}{" "}
                <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label={t("queue.filter")}>
                  {STATUSES.map((s) => (
                    <option key={s} value={s}>
                      {s ? tc(`status.${s}`) : t("queue.all")}
                    </option>
                  ))}
                </select>
              </label>
            }
          >
            {apps.loading && !apps.data ? <Loading what={t("queue.loading")} /> : <ErrorBox error={apps.error} />}
            <Table
              rows={rows}
              rowKey={(a) => a.id}
              empty={t("queue.empty")}
              columns={[
                { key: "when", label: t("queue.received"), render: (a) => formatDateTime(a.createdAt) },
                { key: "borrower", label: t("queue.borrower"), render: (a) => demoName(a.borrower) },
                { key: "amount", label: t("queue.amount"), numeric: true, render: (a) => formatAmount(a.amount) },
                { key: "term", label: t("queue.term"), numeric: true, render: (a) => tc("units.days", { value: a.termDays }) },
                { key: "score", label: t("queue.score"), numeric: true, render: (a) => a.decision?.score ?? "—" },
                { key: "status", label: t("queue.status"), render: (a) => <Badge status={a.status} /> },
                {
                  key: "open",
                  label: "",
                  render: (a) => (
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        setOpenId(a.id);
                        requestAnimationFrame(() =>
                          document.querySelector(`[data-application="${a.id}"]`)?.scrollIntoView({ block: "start" }),
                        );
                      }}
                      aria-label={t("queue.openLabel", { name: demoName(a.borrower) })}
                    >
                      {t("queue.open")}
                    </button>
                  ),
                },
              ]}
            />
          </Card>
          {open && <LenderApplication app={open} onChange={update} />}
        </>
      )}
    </div>
  );
}

function LenderApplication({ app, onChange }: { app: ApplicationView; onChange: (a: ApplicationView) => void }) {
  const t = useT("lender");
  const session = useSession();
  const demoName = usePartyName();
  const [busy, setBusy] = useState("");
  const [error, setError] = useState<unknown>();
  const defs = useLoad(() => api<{ definitions: MetricDef[] }>("/api/metrics/definitions"), []);
  // Before the borrower's consent is in force (the application still "submitted") its data is not the
  // lender's to read: the read waits for it instead of meeting a 403, and happens when the status moves.
  const waitingForConsent = app.status === "submitted";
  const metrics = useLoad(
    () =>
      waitingForConsent
        ? Promise.resolve(undefined)
        : api<{ values: Record<string, Record<string, unknown>>; hidden?: string[] }>(
            `/api/enterprises/${app.borrower}/metrics?application=${app.id}`,
          ),
    // Once per application (every read is an entry in the borrower's access log), once its consent is in force.
    [app.id, waitingForConsent],
  );

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

  async function disburse() {
    const wallet = session.wallet;
    if (!wallet || !app.loanId) throw new Error(t("app.errors.wallet"));
    const client = publicClientOf(session.config);
    const approve = await wallet.client.writeContract({
      account: wallet.account,
      chain: wallet.client.chain,
      address: session.config.contracts.SettlementToken,
      abi: ABI.SettlementToken,
      functionName: "approve",
      args: [session.config.contracts.LoanAgreements, BigInt(app.amount)],
    });
    await client.waitForTransactionReceipt({ hash: approve });
    const hash = await wallet.client.writeContract({
      account: wallet.account,
      chain: wallet.client.chain,
      address: session.config.contracts.LoanAgreements,
      abi: ABI.LoanAgreements,
      functionName: "disburse",
      args: [BigInt(app.loanId)],
    });
    await client.waitForTransactionReceipt({ hash });
  }

  const flags = app.decisionInput?.flags ?? [];
  return (
    <Card
      title={t("app.title", { name: demoName(app.borrower) })}
      actions={<Badge status={app.status} />}
      data={{ application: app.id, "loan-id": app.loanId }}
    >
      <div role="group" className="next-step" aria-label={t("next.title")}>
        <h3>{t("next.title")}</h3>
        {app.status === "offer_issued" && <p>{t("next.offerIssued")}</p>}
        {app.status === "signed_by_borrower" && <p>{t("next.signedByBorrower")}</p>}
        {app.status === "countersigned_notarized" && (
          <p>
            {typeof app.offer?.terms.disburseBy === "string"
              ? t("next.countersignedBy", { id: app.loanId, date: formatDate(Number(app.offer.terms.disburseBy)) })
              : t("next.countersigned", { id: app.loanId })}
          </p>
        )}
        {app.status === "disbursed" && <p>{t("next.disbursed")}</p>}
        {app.status === "closed" && <p>{t("next.closed")}</p>}
        {app.status === "declined" && <p>{app.contest ? t("next.declinedContested") : t("next.declined")}</p>}
        {["draft", "submitted", "consent_granted", "data_collected", "screened", "scored", "decided"].includes(app.status) && (
          <p>{t("next.waiting")}</p>
        )}
        {app.status === "in_review" && <p>{t("next.inReview")}</p>}
        {app.status === "in_review" && <ReviewForm app={app} onChange={onChange} />}
        <div className="actions">
          {app.status === "signed_by_borrower" && (
            <button
              type="button"
              disabled={!!busy}
              onClick={() => run(t("actions.countersigning"), async () => onChange(await signOffer(session, app)))}
            >
              {t("actions.countersign")}
            </button>
          )}
          {app.status === "countersigned_notarized" && (
            <button type="button" disabled={!!busy} onClick={() => run(t("actions.disbursing"), disburse)}>
              {t("actions.disburse", { amount: formatAmount(app.amount) })}
            </button>
          )}
          {isCancellable(app) && app.status !== "in_review" && <DeclineForm app={app} onChange={onChange} />}
          {app.loanId && (
            <a href={`/api/evidence/bundle/agreement/${app.loanId}`} download={`evidence-agreement-${app.loanId}.json`}>
              {t("actions.bundle")}
            </a>
          )}
        </div>
        {busy && (
          <p className="state loading" role="status">
            {busy}
          </p>
        )}
        <ErrorBox error={error} />
      </div>
      <div className="grid2">
        <div>
          {app.decision && (
            <div className={`score score-${app.decision.outcome}`}>
              <span className="score-value">
                <span className="sr-only">{t("decision.score")} </span>
                {app.decision.score}
              </span>
              <span>
                <strong>
                  {app.decision.outcome === "refer"
                    ? t("decision.refer")
                    : app.decision.outcome === "approve"
                      ? t("decision.approve")
                      : t("decision.decline")}
                </strong>
                <br />
                <span className="muted">
                  {t("decision.meta", { policy: app.decision.policyVersion })}{" "}
                  <code title={app.decision.inputHash}>{shortHex(app.decision.inputHash, 4)}</code>
                </span>
              </span>
            </div>
          )}
          <dl className="facts">
            <dt>{t("facts.amount")}</dt>
            <dd>{formatAmount(app.requested?.amount ?? app.amount)}</dd>
            {app.requested && app.requested.amount !== app.amount && (
              <>
                <dt>{t("facts.offered")}</dt>
                <dd>{formatAmount(app.amount)}</dd>
              </>
            )}
            <dt>{t("facts.term")}</dt>
            <dd>{t("facts.days", { count: app.termDays })}</dd>
            <dt>{t("facts.collateral")}</dt>
            <dd>
              {app.receivableIds.length === 0
                ? t("facts.none")
                : app.receivableIds.map((id) => t("facts.receivable", { id })).join(t("facts.listSeparator"))}
            </dd>
            {app.decision && (
              <>
                <dt>{t("facts.limit")}</dt>
                <dd>{formatAmount(app.decision.limit)}</dd>
                <dt>{t("facts.price")}</dt>
                <dd>{t("facts.priceValue", { rate: formatRate(app.decision.rateBps), bps: app.decision.rateBps })}</dd>
              </>
            )}
            {app.review && (
              <>
                <dt>{t("facts.review")}</dt>
                <dd>
                  {t("facts.reviewValue", {
                    outcome: translateKnown("lender", `review.outcomes.${app.review.outcome}`, app.review.outcome.replace("_", " ")),
                    name: demoName(app.review.reviewer),
                    reason: app.review.reason,
                  })}
                </dd>
              </>
            )}
            {app.review?.limitOverride && (
              <>
                <dt>{t("facts.override")}</dt>
                <dd className="override">
                  {t("facts.overrideValue", {
                    limit: formatAmount(app.review.limitOverride.limit),
                    reason: app.review.limitOverride.reason,
                  })}
                </dd>
              </>
            )}
            {app.lenderDecline && (
              <>
                <dt>{t("facts.declinedByYou")}</dt>
                <dd>“{app.lenderDecline.reason}”</dd>
              </>
            )}
          </dl>
          {app.decision && (
            <PolicyIndicators
              reasons={app.decision.reasons as IndicatorReason[]}
              coded={app.decisionReasons}
              names={Object.fromEntries((defs.data?.definitions ?? []).map((d) => [d.key, d.name]))}
              units={Object.fromEntries((defs.data?.definitions ?? []).map((d) => [d.key, d.unit]))}
            />
          )}
          {app.decision && (
            <>
              <h3>{t("reasons.title")}</h3>
              <table className="reasons">
                <thead>
                  <tr>
                    <th scope="col">{t("reasons.reason")}</th>
                    <th scope="col" className="num">
                      {t("reasons.points")}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {app.decision.reasons.map((r, i) => (
                    <tr key={`${r.code}-${i}`}>
                      <td>
                        <code className="reason-code">{r.code}</code>{" "}
                        <DecisionReasonText message={r.message} coded={app.decisionReasons?.[i]} />
                      </td>
                      <td className="num">{r.points !== undefined ? `${r.points > 0 ? "+" : ""}${r.points}` : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <h3>{t("flags.title")}</h3>
          {flags.length === 0 ? (
            <Empty>{t("flags.none")}</Empty>
          ) : (
            <ul className="flags">
              {flags.map((f, i) => (
                <li key={`${f.code}-${i}`} className={`flag flag-${f.severity}`}>
                  <strong>{translateKnown("lender", `flags.codes.${f.code}`, f.code.replace(/_/g, " "))}</strong> (
                  {translateKnown("lender", `flags.severity.${f.severity}`, f.severity)}): <FlagSummary flag={f} />
                  <details>
                    <summary>{t("flags.events", { count: f.evidence.length })}</summary>
                    <ul>
                      {f.evidence.slice(0, 20).map((e) => (
                        <li key={`${e.txHash}-${e.event}-${e.blockNumber}`}>
                          <code>
                            {e.contract}.{e.event}
                          </code>{" "}
                          · {t("flags.block", { n: e.blockNumber })} · {formatDate(e.at)} · {t("flags.tx")} <TxHash hash={e.txHash} />
                        </li>
                      ))}
                    </ul>
                  </details>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3>{t("timeline")}</h3>
          <Timeline steps={app.steps} timeline={app.timeline} />
        </div>
      </div>
      <h3>{t("consent.title")}</h3>
      <div role="group" className="consent-scopes" aria-label={t("consent.label")}>
        <p>
          <strong>{t("consent.covers")}</strong>{" "}
          {t("consent.list", {
            list: SCOPES.filter((sc) => (app.scopes & sc.bit) !== 0)
              .map((sc) => sc.label)
              .join(t("facts.listSeparator")),
          })}
        </p>
        {SCOPES.some((sc) => (app.scopes & sc.bit) === 0) && (
          <p className="muted">
            <strong>{t("consent.hidden")}</strong> {t("consent.notInConsent")}{" "}
            {t("consent.list", {
              list: SCOPES.filter((sc) => (app.scopes & sc.bit) === 0)
                .map((sc) => sc.label)
                .join(t("facts.listSeparator")),
            })}
          </p>
        )}
      </div>
      {waitingForConsent && <p className="muted">{t("metricsAfterConsent")}</p>}
      {metrics.loading || defs.loading ? <Loading what={t("metricsLoading")} /> : null}
      <ErrorBox error={metrics.error ?? defs.error} />
      {metrics.data && defs.data && <MetricsTable defs={defs.data.definitions} values={metrics.data.values} hidden={metrics.data.hidden} />}
    </Card>
  );
}

type IndicatorReason = {
  code: string;
  message: string;
  metric?: string;
  window?: string;
  value?: unknown;
  points?: number;
  effect?: string;
};

/** The indicators the policy actually used (its hard rules that fired and its scorecard factors), with the policy's thresholds. */
function PolicyIndicators({
  reasons,
  coded,
  names,
  units,
}: {
  reasons: IndicatorReason[];
  /** The same reasons as message codes, same order (the service's explanation.decisionReasons). */
  coded?: { textCode: string; params: Record<string, string> }[];
  names: Record<string, string>;
  /** Each metric's unit, so a value shows as money, a percentage or days rather than a raw number. */
  units: Record<string, string>;
}) {
  const t = useT("lender");
  const used = reasons.map((r, i) => ({ ...r, coded: coded?.[i] })).filter((r) => r.metric !== undefined);
  if (used.length === 0) return null;
  return (
    <>
      <h3>{t("indicators.title")}</h3>
      <table className="reasons policy-indicators">
        <thead>
          <tr>
            <th scope="col">{t("indicators.indicator")}</th>
            <th scope="col" className="num">
              {t("indicators.value")}
            </th>
            <th scope="col">{t("indicators.threshold")}</th>
          </tr>
        </thead>
        <tbody>
          {used.map((r, i) => (
            <tr key={`${r.code}-${i}`}>
              <td>
                {translateKnown("metrics", `${r.metric}.name`, names[r.metric as string] ?? String(r.metric))}{" "}
                <span className="muted">
                  ({r.window === "all" ? t("indicators.allTime") : t("indicators.window", { days: String(r.window).replace("d", "") })})
                </span>
              </td>
              <td className="num">
                {r.value === null || r.value === undefined
                  ? t("indicators.noData")
                  : units[r.metric as string]
                    ? formatMetric(r.value, units[r.metric as string])
                    : String(r.value)}
              </td>
              <td>
                <IndicatorThreshold message={r.message} coded={r.coded} />
                {r.effect ? (
                  <>
                    {" "}
                    <Badge status={r.effect === "decline" ? "declined" : "in_review"} />
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

interface BandRow {
  band: string;
  cases: number;
  approved: number;
  approvalRate: number | null;
  approvedAmount: string;
  outcomes: { on_time: number; late: number; defaulted: number; open: number };
  defaultedAmount: string;
  badDebtRate: number | null;
}
interface BacktestAnswer {
  from: number;
  to: number;
  termDays: number;
  cases: { applications: number; monthly: number };
  policies: { version: string; name: string; inForce: boolean; bands: BandRow[]; total: BandRow }[];
}

const pctOf = (x: number | null) =>
  x === null ? "—" : formatNumber(x, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Back-test: a policy (a stored version, or pasted JSON) over history, beside the policy in force. */
function Backtest() {
  const tn = useT("nav");
  const t = useT("lender");
  const [version, setVersion] = useState("v1");
  const [policyText, setPolicyText] = useState("");
  const [termDays, setTermDays] = useState(30);
  const [result, setResult] = useState<BacktestAnswer>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  function body(): unknown {
    return policyText.trim() ? { policy: JSON.parse(policyText), termDays } : { policyVersion: version, termDays };
  }
  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await api<BacktestAnswer>("/api/backtest", { method: "POST", json: body() }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  async function exportCsv() {
    try {
      const lang = currentLanguage();
      const text = await api<string>(`/api/backtest?format=csv&lang=${lang}`, { method: "POST", json: body() });
      // Reading the answer as text drops the byte order mark spreadsheets need to read Chinese as UTF-8: put it back.
      const url = URL.createObjectURL(new Blob([lang === "zh" ? `\ufeff${text}` : text], { type: "text/csv;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = "backtest.csv";
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Card title={t("backtest.title")}>
      <p className="muted">{t("backtest.intro")}</p>
      <div className="form-row">
        <label>
          {t("backtest.version")}{" "}
          <input
            value={version}
            onChange={(e) => setVersion(e.target.value)}
            aria-label={t("backtest.version")}
            disabled={policyText.trim() !== ""}
          />
        </label>{" "}
        <label>
          {t("backtest.term")}{" "}
          <input
            type="number"
            min={1}
            max={3650}
            value={termDays}
            onChange={(e) => setTermDays(Number(e.target.value))}
            aria-label={t("backtest.termLabel")}
          />
        </label>
      </div>
      <label>
        {t("backtest.json")}
        <textarea
          rows={6}
          value={policyText}
          onChange={(e) => setPolicyText(e.target.value)}
          aria-label={t("backtest.jsonLabel")}
          spellCheck={false}
        />
      </label>
      <p>
        <button type="button" onClick={run} disabled={busy}>
          {busy ? t("backtest.running") : t("backtest.run")}
        </button>{" "}
        <button type="button" className="link" onClick={exportCsv} disabled={busy}>
          {t("backtest.export")}
        </button>
      </p>
      <ErrorBox error={error} />
      {result && (
        <>
          <p>
            {t("backtest.summary", {
              from: formatDate(result.from),
              to: formatDate(result.to),
              applications: result.cases.applications,
              monthly: result.cases.monthly,
            })}
          </p>
          <div className="table-wrap" tabIndex={0} role="group" aria-label={tn("a11y.backtestResults")}>
            <table className="backtest">
              <thead>
                <tr>
                  <th scope="col">{t("backtest.band")}</th>
                  {result.policies.map((p) => (
                    <th key={p.version} scope="col" colSpan={4}>
                      {p.version}
                      {p.inForce ? ` ${t("backtest.inForce")}` : ""}
                    </th>
                  ))}
                </tr>
                <tr>
                  <th scope="col" />
                  {result.policies.map((p) => (
                    <Fragment key={p.version}>
                      <th scope="col" className="num">
                        {t("backtest.approved")}
                      </th>
                      <th scope="col" className="num">
                        {t("backtest.amount")}
                      </th>
                      <th scope="col">{t("backtest.outcomes")}</th>
                      <th scope="col" className="num">
                        {t("backtest.badDebt")}
                      </th>
                    </Fragment>
                  ))}
                </tr>
              </thead>
              <tbody>
                {[...result.policies[0].bands.map((b, i) => [b.band, i] as const), ["all", -1] as const].map(([band, i]) => (
                  <tr key={band}>
                    <th scope="row">{band === "all" ? t("backtest.all") : band}</th>
                    {result.policies.map((p) => {
                      const r = i < 0 ? p.total : p.bands[i];
                      return (
                        <Fragment key={p.version}>
                          <td className="num">
                            {r.approved} / {r.cases} ({pctOf(r.approvalRate)})
                          </td>
                          <td className="num">{formatAmount(r.approvedAmount)}</td>
                          <td>
                            {r.outcomes.on_time} / {r.outcomes.late} / {r.outcomes.defaulted} / {r.outcomes.open}
                          </td>
                          <td className="num">{pctOf(r.badDebtRate)}</td>
                        </Fragment>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Card>
  );
}
