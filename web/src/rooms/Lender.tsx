/**
 * The lender's room: the application queue; one application with the metrics its consent allows (and
 * what is hidden), risk flags with their events, score and reasons; review with a mandatory reason;
 * countersign; disburse; the live portfolio with CSV export; the back-test of a policy over history
 * beside the policy in force (with CSV export). An application leads with the indicators the policy
 * used, their values and the policy's thresholds, before the full metrics table.
 */
import { TextWithNames } from "../components/TextWithNames";
import { Fragment, useState } from "react";
import { api, ROLE, SCOPES } from "../api";
import { usePartyName, useSession } from "../hooks/session";
import { ABI } from "../contracts";
import { formatAmount, formatDate, formatDateTime, formatRate, shortHex } from "../format";
import { publicClientOf } from "../wallet";
import { Badge, Card, Empty, ErrorBox, Loading, Table, Tabs, useLoad } from "../components/ui";
import { Timeline } from "../components/Timeline";
import { isCancellable, signOffer, useLiveApplications, type ApplicationView } from "../hooks/applications";
import { DeclineForm, ReviewForm } from "../components/ReviewForm";
import { MetricsTable, type MetricDef } from "../components/MetricsTable";
import { Portfolio } from "../components/Portfolio";
import { Link, useSearchParams } from "react-router";
import { roomFits, useRouteTab } from "../routes";
import { useT } from "../i18n";

const STATUSES = ["", "in_review", "offer_issued", "signed_by_borrower", "countersigned_notarized", "disbursed", "closed", "declined"];

export function LenderRoom() {
  const session = useSession();
  const tn = useT("nav");
  if (!session.me) {
    return (
      <div className="room">
        <h1>Lender</h1>
        <Empty>Sign in as a lender to see your application queue and portfolio.</Empty>
      </div>
    );
  }
  if ((session.me.roles & ROLE.LENDER) === 0) {
    return (
      <div className="room">
        <h1>Lender</h1>
        <Empty>
          This account is not a registered lender.
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
  const [status, setStatus] = useState("");
  // The open application is in the URL too (?application=<id>): a reload or a link reopens it.
  const [params, setParams] = useSearchParams();
  const openId = params.get("application") ?? undefined;
  const setOpenId = (id: string) => setParams({ application: id });
  const [tab, setTab] = useRouteTab(["queue", "portfolio", "backtest"] as const, "queue");
  const { apps, applications: all, update } = useLiveApplications("lender", []);
  const rows = all.filter((a) => !status || a.status === status);
  const open = all.find((a) => a.id === openId);
  const demoName = usePartyName();

  return (
    <div className="room">
      <h1>Lender</h1>
      <Tabs
        label="Lender sections"
        selected={tab}
        onSelect={setTab}
        tabs={[
          ["queue", "Applications"],
          ["portfolio", "Portfolio"],
          ["backtest", "Back-test"],
        ]}
      />
      {tab === "portfolio" && <Portfolio />}
      {tab === "backtest" && <Backtest />}
      {tab === "queue" && (
        <>
          <Card
            title="Application queue"
            actions={
              <label className="inline">
                Status{" "}
                <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Filter by status">
                  {STATUSES.map((s) => (
                    <option key={s} value={s}>
                      {s ? s.replace(/_/g, " ") : "all"}
                    </option>
                  ))}
                </select>
              </label>
            }
          >
            {apps.loading && !apps.data ? <Loading what="applications" /> : <ErrorBox error={apps.error} />}
            <Table
              rows={rows}
              rowKey={(a) => a.id}
              empty="No application in this state."
              columns={[
                { key: "when", label: "Received", render: (a) => formatDateTime(a.createdAt) },
                { key: "borrower", label: "Borrower", render: (a) => demoName(a.borrower) },
                { key: "amount", label: "Amount", numeric: true, render: (a) => formatAmount(a.amount) },
                { key: "term", label: "Term", numeric: true, render: (a) => `${a.termDays} d` },
                { key: "score", label: "Score", numeric: true, render: (a) => a.decision?.score ?? "—" },
                { key: "status", label: "Status", render: (a) => <Badge status={a.status} /> },
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
                      aria-label={`Open application from ${demoName(a.borrower)}`}
                    >
                      Open
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
  const session = useSession();
  const tn = useT("nav");
  const demoName = usePartyName();
  const [busy, setBusy] = useState("");
  const [error, setError] = useState<unknown>();
  const defs = useLoad(() => api<{ definitions: MetricDef[] }>("/api/metrics/definitions"), []);
  const metrics = useLoad(
    () =>
      api<{ values: Record<string, Record<string, unknown>>; hidden?: string[] }>(
        `/api/enterprises/${app.borrower}/metrics?application=${app.id}`,
      ),
    // Once per application: every read is an entry in the borrower's access log.
    [app.id],
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
    if (!wallet || !app.loanId) throw new Error("sign in with your wallet again to disburse");
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
      title={`Application from ${demoName(app.borrower)}`}
      actions={<Badge status={app.status} />}
      data={{ application: app.id, "loan-id": app.loanId }}
    >
      <div role="group" className="next-step" aria-label="Next step">
        <h3>Next step</h3>
        {app.status === "offer_issued" && <p>Waiting for the borrower to sign the offer.</p>}
        {app.status === "signed_by_borrower" && (
          <p>The borrower signed the offer. Countersign it: the service then records the agreement on chain.</p>
        )}
        {app.status === "countersigned_notarized" && (
          <p>
            The agreement #{app.loanId} is recorded on chain. Disbursing transfers the principal to the borrower
            {typeof app.offer?.terms.disburseBy === "string" ? (
              <>
                {" "}
                no later than {formatDate(Number(app.offer.terms.disburseBy))}; after that the contract refuses it and the borrower may
                cancel
              </>
            ) : null}
            . It is also refused once a pledged receivable was paid after signing.
          </p>
        )}
        {app.status === "disbursed" && <p>Disbursed. The loan is repaid through the pledged receivables when the buyers pay them.</p>}
        {app.status === "closed" && <p>Repaid and closed.</p>}
        {app.status === "declined" && <p>Declined.{app.contest ? " The borrower contested the decline." : ""}</p>}
        {["draft", "submitted", "consent_granted", "data_collected", "screened", "scored", "decided"].includes(app.status) && (
          <p>Waiting for the borrower's consent and the automatic decision.</p>
        )}
        {app.status === "in_review" && (
          <p>
            The automatic decision referred this application to you. Record your decision with a reason; it is kept with the application.
          </p>
        )}
        {app.status === "in_review" && <ReviewForm app={app} onChange={onChange} />}
        <div className="actions">
          {app.status === "signed_by_borrower" && (
            <button
              type="button"
              disabled={!!busy}
              onClick={() => run("Countersigning…", async () => onChange(await signOffer(session, app)))}
            >
              Countersign
            </button>
          )}
          {app.status === "countersigned_notarized" && (
            <button type="button" disabled={!!busy} onClick={() => run("Disbursing on chain…", disburse)}>
              Disburse {formatAmount(app.amount)}
            </button>
          )}
          {isCancellable(app) && app.status !== "in_review" && <DeclineForm app={app} onChange={onChange} />}
          {app.loanId && (
            <a href={`/api/evidence/bundle/agreement/${app.loanId}`} download={`evidence-agreement-${app.loanId}.json`}>
              Download the evidence bundle
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
                <span className="sr-only">{tn("a11y.score")} </span>
                {app.decision.score}
              </span>
              <span>
                <strong>
                  {app.decision.outcome === "refer"
                    ? "Referred to a reviewer"
                    : app.decision.outcome === "approve"
                      ? "Approved automatically"
                      : "Declined automatically"}
                </strong>
                <br />
                <span className="muted">
                  score out of 100 · policy {app.decision.policyVersion} · input{" "}
                  <code title={app.decision.inputHash}>{shortHex(app.decision.inputHash, 4)}</code>
                </span>
              </span>
            </div>
          )}
          <dl className="facts">
            <dt>Amount asked</dt>
            <dd>{formatAmount(app.requested?.amount ?? app.amount)}</dd>
            {app.requested && app.requested.amount !== app.amount && (
              <>
                <dt>Amount offered</dt>
                <dd>{formatAmount(app.amount)}</dd>
              </>
            )}
            <dt>Term</dt>
            <dd>{app.termDays} days</dd>
            <dt>Collateral</dt>
            <dd>{app.receivableIds.length === 0 ? "none" : app.receivableIds.map((id) => `receivable #${id}`).join(", ")}</dd>
            {app.decision && (
              <>
                <dt>Limit</dt>
                <dd>{formatAmount(app.decision.limit)}</dd>
                <dt>Price</dt>
                <dd>
                  {formatRate(app.decision.rateBps)} a year ({app.decision.rateBps} bps)
                </dd>
              </>
            )}
            {app.review && (
              <>
                <dt>Review</dt>
                <dd>
                  {app.review.outcome.replace("_", " ")} by {demoName(app.review.reviewer)}: “{app.review.reason}”
                </dd>
              </>
            )}
            {app.review?.limitOverride && (
              <>
                <dt>Override</dt>
                <dd className="override">
                  Above the policy's limit of {formatAmount(app.review.limitOverride.limit)} by override: “{app.review.limitOverride.reason}
                  ”
                </dd>
              </>
            )}
            {app.lenderDecline && (
              <>
                <dt>Declined by you</dt>
                <dd>“{app.lenderDecline.reason}”</dd>
              </>
            )}
          </dl>
          {app.decision && (
            <PolicyIndicators
              reasons={app.decision.reasons as IndicatorReason[]}
              names={Object.fromEntries((defs.data?.definitions ?? []).map((d) => [d.key, d.name]))}
            />
          )}
          {app.decision && (
            <>
              <h3>Reasons</h3>
              <table className="reasons">
                <thead>
                  <tr>
                    <th scope="col">Reason</th>
                    <th scope="col" className="num">
                      Points
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {app.decision.reasons.map((r, i) => (
                    <tr key={`${r.code}-${i}`}>
                      <td>
                        <code className="reason-code">{r.code}</code> <TextWithNames text={r.message} />
                      </td>
                      <td className="num">{r.points !== undefined ? `${r.points > 0 ? "+" : ""}${r.points}` : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <h3>Risk flags</h3>
          {flags.length === 0 ? (
            <Empty>No risk flag.</Empty>
          ) : (
            <ul className="flags">
              {flags.map((f, i) => (
                <li key={`${f.code}-${i}`} className={`flag flag-${f.severity}`}>
                  <strong>{f.code.replace(/_/g, " ")}</strong> ({f.severity}): {f.summary}
                  <details>
                    <summary>{f.evidence.length} events behind it</summary>
                    <ul>
                      {f.evidence.slice(0, 20).map((e) => (
                        <li key={`${e.txHash}-${e.event}-${e.blockNumber}`}>
                          {e.contract}.{e.event} · block {e.blockNumber} · {formatDate(e.at)} · tx <code>{shortHex(e.txHash, 4)}</code>
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
          <h3>Timeline</h3>
          <Timeline steps={app.steps} timeline={app.timeline} />
        </div>
      </div>
      <h3>Metrics within the borrower's consent</h3>
      <div role="group" className="consent-scopes" aria-label="Consent scopes">
        <p>
          <strong>Consent covers:</strong>{" "}
          {SCOPES.filter((sc) => (app.scopes & sc.bit) !== 0)
            .map((sc) => sc.label)
            .join(", ")}
          .
        </p>
        {SCOPES.some((sc) => (app.scopes & sc.bit) === 0) && (
          <p className="muted">
            <strong>Hidden from you</strong> (not in the consent):{" "}
            {SCOPES.filter((sc) => (app.scopes & sc.bit) === 0)
              .map((sc) => sc.label)
              .join(", ")}
            .
          </p>
        )}
      </div>
      {metrics.loading || defs.loading ? <Loading what="metrics" /> : null}
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
function PolicyIndicators({ reasons, names }: { reasons: IndicatorReason[]; names: Record<string, string> }) {
  const used = reasons.filter((r) => r.metric !== undefined);
  if (used.length === 0) return null;
  return (
    <>
      <h3>Indicators the policy used</h3>
      <table className="reasons policy-indicators">
        <thead>
          <tr>
            <th scope="col">Indicator</th>
            <th scope="col" className="num">
              Value
            </th>
            <th scope="col">Policy threshold and result</th>
          </tr>
        </thead>
        <tbody>
          {used.map((r, i) => (
            <tr key={`${r.code}-${i}`}>
              <td>
                {names[r.metric as string] ?? r.metric} <span className="muted">({r.window})</span>
              </td>
              <td className="num">{r.value === null || r.value === undefined ? "no data" : String(r.value)}</td>
              <td>
                {r.message.replace(/^[^:]*: /, "")}
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

const pctOf = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);

/** Back-test: a policy (a stored version, or pasted JSON) over history, beside the policy in force. */
function Backtest() {
  const tn = useT("nav");
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
      const text = await api<string>("/api/backtest?format=csv", { method: "POST", json: body() });
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
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
    <Card title="Back-test a policy on history">
      <p className="muted">
        Every past application to you (decided again with what was known at its moment) and, for enterprises that never applied, one case
        per month end, applying for the most their receivables allowed. Outcomes of approved cases: the loan's, or the collateral's
        collections.
      </p>
      <div className="form-row">
        <label>
          Policy version{" "}
          <input
            value={version}
            onChange={(e) => setVersion(e.target.value)}
            aria-label="Policy version"
            disabled={policyText.trim() !== ""}
          />
        </label>{" "}
        <label>
          Term of monthly cases (days){" "}
          <input
            type="number"
            min={1}
            max={3650}
            value={termDays}
            onChange={(e) => setTermDays(Number(e.target.value))}
            aria-label="Term in days"
          />
        </label>
      </div>
      <label>
        Or a policy as JSON (the policy file)
        <textarea rows={6} value={policyText} onChange={(e) => setPolicyText(e.target.value)} aria-label="Policy JSON" spellCheck={false} />
      </label>
      <p>
        <button type="button" onClick={run} disabled={busy}>
          {busy ? "Running…" : "Run back-test"}
        </button>{" "}
        <button type="button" className="link" onClick={exportCsv} disabled={busy}>
          Export CSV
        </button>
      </p>
      <ErrorBox error={error} />
      {result && (
        <>
          <p>
            {formatDate(result.from)} to {formatDate(result.to)}: {result.cases.applications} past applications, {result.cases.monthly}{" "}
            monthly cases.
          </p>
          <div className="table-wrap" tabIndex={0} role="group" aria-label={tn("a11y.backtestResults")}>
            <table className="backtest">
              <thead>
                <tr>
                  <th scope="col">Score band</th>
                  {result.policies.map((p) => (
                    <th key={p.version} scope="col" colSpan={4}>
                      {p.version}
                      {p.inForce ? " (in force)" : ""}
                    </th>
                  ))}
                </tr>
                <tr>
                  <th scope="col" />
                  {result.policies.map((p) => (
                    <Fragment key={p.version}>
                      <th scope="col" className="num">
                        Approved
                      </th>
                      <th scope="col" className="num">
                        Amount
                      </th>
                      <th scope="col">On time / late / defaulted / open</th>
                      <th scope="col" className="num">
                        Bad debt
                      </th>
                    </Fragment>
                  ))}
                </tr>
              </thead>
              <tbody>
                {[...result.policies[0].bands.map((b, i) => [b.band, i] as const), ["all", -1] as const].map(([band, i]) => (
                  <tr key={band}>
                    <th scope="row">{band}</th>
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
