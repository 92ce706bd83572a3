/**
 * The lender's room: the application queue; one application with the metrics its consent allows (and
 * what is hidden), risk flags with their events, score and reasons; review with a mandatory reason;
 * countersign; disburse; the live portfolio with CSV export.
 */
import { useMemo, useState } from "react";
import { api, ROLE } from "../api";
import { useSession } from "../App";
import { ABI } from "../contracts";
import { formatAmount, formatDate, formatDateTime, parseAmountInput, shortHex } from "../format";
import { publicClientOf } from "../wallet";
import { Badge, Card, Empty, ErrorBox, Loading, Table, useLoad } from "../components/ui";
import { Timeline } from "../components/Timeline";
import { MetricsTable, signOffer, useApplicationEvents, type ApplicationView } from "./Manufacturer";

const STATUSES = ["", "in_review", "offer_issued", "signed_by_borrower", "countersigned_notarized", "disbursed", "closed", "declined"];

export function LenderRoom() {
  const session = useSession();
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
        <Empty>This account is not a registered lender.</Empty>
      </div>
    );
  }
  return <LenderHome />;
}

function LenderHome() {
  const [status, setStatus] = useState("");
  const [openId, setOpenId] = useState<string>();
  const [tab, setTab] = useState<"queue" | "portfolio">("queue");
  const apps = useLoad(() => api<{ applications: ApplicationView[] }>("/api/applications?role=lender"), []);
  const [live, setLive] = useState<Record<string, ApplicationView>>({});
  useApplicationEvents((a) => setLive((l) => ({ ...l, [a.id]: a })), true);
  const all = useMemo(() => {
    const byId: Record<string, ApplicationView> = {};
    for (const a of apps.data?.applications ?? []) byId[a.id] = a;
    Object.assign(byId, live);
    return Object.values(byId).sort((a, b) => b.createdAt - a.createdAt);
  }, [apps.data, live]);
  const rows = all.filter((a) => !status || a.status === status);
  const open = all.find((a) => a.id === openId);
  const demoName = useDemoName();

  return (
    <div className="room">
      <h1>Lender</h1>
      <div className="tabs" role="tablist" aria-label="Lender sections">
        <button type="button" role="tab" aria-selected={tab === "queue"} className={tab === "queue" ? "tab active" : "tab"} onClick={() => setTab("queue")}>
          Applications
        </button>
        <button type="button" role="tab" aria-selected={tab === "portfolio"} className={tab === "portfolio" ? "tab active" : "tab"} onClick={() => setTab("portfolio")}>
          Portfolio
        </button>
      </div>
      {tab === "portfolio" && <Portfolio />}
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
                    <button type="button" className="link" onClick={() => setOpenId(a.id)} aria-label={`Open application from ${demoName(a.borrower)}`}>
                      Open
                    </button>
                  ),
                },
              ]}
            />
          </Card>
          {open && <LenderApplication app={open} onChange={(a) => setLive((l) => ({ ...l, [a.id]: a }))} />}
        </>
      )}
    </div>
  );
}

function useDemoName() {
  const session = useSession();
  return (address: string) => session.config.demoAccounts?.find((a) => a.address.toLowerCase() === address.toLowerCase())?.name ?? shortHex(address, 4);
}

function LenderApplication({ app, onChange }: { app: ApplicationView; onChange: (a: ApplicationView) => void }) {
  const session = useSession();
  const demoName = useDemoName();
  const [outcome, setOutcome] = useState<"approve" | "decline" | "change_terms">("approve");
  const [reason, setReason] = useState("");
  const [amount, setAmount] = useState("");
  const [rateBps, setRateBps] = useState("");
  const [busy, setBusy] = useState("");
  const [error, setError] = useState<unknown>();
  const defs = useLoad(() => api<{ definitions: { key: string; name: string; unit: string; windows: string[]; definition: string; group: string }[] }>("/api/metrics/definitions"), []);
  const metrics = useLoad(
    () => api<{ values: Record<string, Record<string, unknown>>; hidden?: string[] }>(`/api/enterprises/${app.borrower}/metrics?application=${app.id}`),
    [app.id, app.status],
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
    <Card title={`Application from ${demoName(app.borrower)}`} actions={<Badge status={app.status} />}>
      <div className="grid2">
        <div>
          <dl className="facts">
            <dt>Amount</dt>
            <dd>{formatAmount(app.amount)}</dd>
            <dt>Term</dt>
            <dd>{app.termDays} days</dd>
            <dt>Collateral</dt>
            <dd>{app.receivableIds.map((id) => `#${id}`).join(", ")}</dd>
            {app.decision && (
              <>
                <dt>Score</dt>
                <dd>
                  <strong>{app.decision.score}</strong> → {app.decision.outcome} (policy {app.decision.policyVersion})
                </dd>
                <dt>Limit / price</dt>
                <dd>
                  {formatAmount(app.decision.limit)} at {app.decision.rateBps} bps
                </dd>
                <dt>Input snapshot</dt>
                <dd>
                  <code>{shortHex(app.decision.inputHash, 8)}</code>
                </dd>
              </>
            )}
          </dl>
          {app.decision && (
            <>
              <h3>Reasons</h3>
              <ul className="reasons">
                {app.decision.reasons.map((r, i) => (
                  <li key={`${r.code}-${i}`}>
                    <code>{r.code}</code> {r.message}
                    {r.value !== undefined && r.value !== null ? ` (value ${String(r.value)})` : ""}
                    {r.points !== undefined ? ` · ${r.points > 0 ? "+" : ""}${r.points} pts` : ""}
                  </li>
                ))}
              </ul>
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
      {metrics.loading || defs.loading ? <Loading what="metrics" /> : null}
      <ErrorBox error={metrics.error ?? defs.error} />
      {metrics.data && defs.data && <MetricsTable defs={defs.data.definitions} values={metrics.data.values} hidden={metrics.data.hidden} />}

      {app.status === "in_review" && (
        <form
          className="review"
          aria-label="Review"
          onSubmit={(e) => {
            e.preventDefault();
            void run("Recording the review…", async () => {
              const body: Record<string, unknown> = { outcome, reason };
              if (outcome === "change_terms") {
                const minor = amount ? parseAmountInput(amount) : null;
                if (amount && minor === null) throw new Error("Enter a valid amount");
                if (minor !== null) body.amount = minor.toString();
                if (rateBps) body.rateBps = Number(rateBps);
              }
              onChange(await api<ApplicationView>(`/api/applications/${app.id}/review`, { method: "POST", json: body }));
            });
          }}
        >
          <h3>Your decision</h3>
          <fieldset>
            <legend>Outcome</legend>
            {(["approve", "decline", "change_terms"] as const).map((o) => (
              <label key={o} className="check">
                <input type="radio" name="outcome" value={o} checked={outcome === o} onChange={() => setOutcome(o)} />
                {o === "change_terms" ? "Approve with changed terms" : o[0].toUpperCase() + o.slice(1)}
              </label>
            ))}
          </fieldset>
          {outcome === "change_terms" && (
            <div className="grid2">
              <label>
                New amount
                <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" />
              </label>
              <label>
                New rate (bps)
                <input value={rateBps} onChange={(e) => setRateBps(e.target.value)} inputMode="numeric" />
              </label>
            </div>
          )}
          <label htmlFor="review-reason">Reason (required, kept with the decision)</label>
          <textarea id="review-reason" value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} />
          <button type="submit" disabled={!!busy}>
            Record decision
          </button>
        </form>
      )}
      <div className="actions">
        {app.status === "signed_by_borrower" && (
          <button type="button" disabled={!!busy} onClick={() => run("Countersigning…", async () => onChange(await signOffer(session, app)))}>
            Countersign
          </button>
        )}
        {app.status === "countersigned_notarized" && (
          <button type="button" disabled={!!busy} onClick={() => run("Disbursing on chain…", disburse)}>
            Disburse {formatAmount(app.amount)}
          </button>
        )}
        {app.offer && (
          <a href={`/api/evidence/bundle/agreement/${app.loanId ?? ""}`} className={app.loanId ? "" : "disabled"} aria-disabled={!app.loanId}>
            Evidence bundle
          </a>
        )}
      </div>
      {busy && (
        <p className="state loading" role="status">
          {busy}
        </p>
      )}
      <ErrorBox error={error} />
    </Card>
  );
}

function Portfolio() {
  const session = useSession();
  const address = session.me!.address;
  const loans = useLoad(
    () =>
      api<{ loans: { id: string; borrower: string; principal: string; totalDue: string; repaid: string; maturity: number; status: string; collateral: string[]; collateralStatus?: { id: string; status: string; paid: string; faceValue: string }[] }[] }>(
        `/api/enterprises/${address}/loans`,
      ),
    [address],
  );
  const demoName = useDemoName();
  return (
    <Card
      title="Portfolio"
      actions={
        <span className="exports">
          <a href={`/api/lenders/${address}/portfolio.csv?kind=loans`} download>
            Loans CSV
          </a>{" "}
          <a href={`/api/lenders/${address}/portfolio.csv?kind=repayments`} download>
            Repayments CSV
          </a>{" "}
          <a href={`/api/lenders/${address}/portfolio.csv?kind=receivable-payments`} download>
            Receivable payments CSV
          </a>
        </span>
      }
    >
      {loans.loading ? <Loading what="loans" /> : <ErrorBox error={loans.error} />}
      {loans.data && (
        <Table
          rows={loans.data.loans}
          rowKey={(l) => l.id}
          empty="No loans yet."
          columns={[
            { key: "id", label: "Loan", render: (l) => `#${l.id}` },
            { key: "borrower", label: "Borrower", render: (l) => demoName(l.borrower) },
            { key: "principal", label: "Principal", numeric: true, render: (l) => formatAmount(l.principal) },
            { key: "due", label: "Total due", numeric: true, render: (l) => formatAmount(l.totalDue) },
            { key: "repaid", label: "Repaid", numeric: true, render: (l) => formatAmount(l.repaid) },
            { key: "maturity", label: "Maturity", render: (l) => formatDate(l.maturity) },
            {
              key: "collateral",
              label: "Collateral",
              render: (l) => (l.collateralStatus ?? l.collateral.map((id) => ({ id, status: "", paid: "0", faceValue: "0" }))).map((c) => `#${c.id}${c.status ? ` ${c.status}` : ""}`).join(", "),
            },
            { key: "status", label: "Status", render: (l) => <Badge status={l.status} /> },
          ]}
        />
      )}
    </Card>
  );
}
