/**
 * The borrower's side after signing: each loan's balance, due date, repayment schedule, a Repay button
 * that sends LoanAgreements.repay from the borrower's own wallet, and the history of disbursement,
 * repayments and collections (debtors paying pledged receivables); the consents it granted, with their
 * scopes and expiry, revocable on the ConsentRegistry from the wallet; and the price before applying.
 * Amounts arrive as decimal strings of minor units and are shown in CNY.
 */
import { useEffect, useState } from "react";
import { api, SCOPES } from "../api";
import { ABI } from "../contracts";
import { formatRate, minorToInput, parseAmountInput } from "../format";
import { formatAmount, formatDate, formatDateTime, tNs, useT } from "../i18n";
import { useSession, type Session } from "../hooks/session";
import { useApplicationEvents } from "../hooks/applications";
import { ParticipantName } from "./ParticipantName";
import { publicClientOf } from "../wallet";
import { Card, Empty, ErrorBox, Table, useLoad } from "./ui";
import { TxHash } from "./TxHash";
import "./BorrowerLoan.css";

export interface LoanView {
  id: string;
  borrower: string;
  lender: string;
  status: string;
  standing: string;
  principal: string;
  interest: string;
  totalDue: string;
  repaid: string;
  outstanding: string;
  rateBps: number;
  start: number;
  maturity: number;
  disbursedAt?: number;
  closedAt?: number;
  daysToMaturity: number;
  schedule: { due: number; amount: string; paid: string; outstanding: string; status: string }[];
  collateral: { receivableId: string; debtor?: string; faceValue?: string; paid?: string; maturity?: number; status?: string }[];
  history: {
    kind: "disbursement" | "repayment" | "collection";
    at: number;
    amount: string;
    receivableId?: string;
    debtor?: string;
    txHash: string;
  }[];
}

/** Sends a contract write from the signed-in wallet and waits for its receipt; throws when it reverted. */
async function writeAndWait(
  session: Session,
  contract: "LoanAgreements" | "SettlementToken" | "ConsentRegistry",
  functionName: string,
  args: unknown[],
) {
  const wallet = session.wallet;
  if (!wallet) throw new Error(tNs("loan")("wallet.missing"));
  const hash = await wallet.client.writeContract({
    account: wallet.account,
    chain: wallet.client.chain,
    address: session.config.contracts[contract],
    abi: ABI[contract],
    functionName,
    args,
  } as never);
  const receipt = await publicClientOf(session.config).waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(tNs("loan")("wallet.reverted", { hash }));
  return hash;
}

/** Polls `load` until `done` holds (the index follows the chain within a second or so), at most ~15 s. */
async function until<T>(load: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await load();
  for (let i = 0; i < 60 && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 250));
    v = await load();
  }
  return v;
}

/** A loading line in the loan namespace (ui.tsx's Loading words its own text). */
function Waiting({ text }: { text: string }) {
  return (
    <p className="state loading" role="status">
      {text}
    </p>
  );
}

/** The borrower's loans, newest first. */
export function BorrowerLoans() {
  const t = useT("loan");
  const session = useSession();
  const loans = useLoad(() => api<{ loans: LoanView[] }>("/api/loans"), [session.me?.address]);
  // Other parties' steps (a debtor paying, the lender disbursing) arrive with the application events;
  // a stream that came back after ending missed some, so the loans are read again then too.
  useApplicationEvents(loans.reload, true, loans.reload);
  if (loans.loading && !loans.data) return <Waiting text={t("loans.loading")} />;
  return (
    <Card title={t("loans.title")}>
      <ErrorBox error={loans.error} />
      {loans.data && loans.data.loans.length === 0 && <Empty>{t("loans.empty")}</Empty>}
      {loans.data?.loans.map((l) => (
        <LoanCard key={l.id} loan={l} onChange={loans.reload} />
      ))}
    </Card>
  );
}

function LoanCard({ loan: initial, onChange }: { loan: LoanView; onChange: () => void }) {
  const t = useT("loan");
  const session = useSession();
  const [loan, setLoan] = useState(initial);
  useEffect(() => setLoan(initial), [initial]);
  const [amount, setAmount] = useState("");
  const [busy, setBusy] = useState("");
  const [error, setError] = useState<unknown>();
  const open = loan.status === "Active" || loan.status === "Defaulted";
  const outstanding = BigInt(loan.outstanding);

  async function repay(e: React.FormEvent) {
    e.preventDefault();
    setError(undefined);
    const minor = amount.trim() === "" ? outstanding : parseAmountInput(amount);
    if (minor === null || minor <= 0n) return setError(new Error(t("loans.badAmount")));
    if (minor > outstanding) return setError(new Error(t("loans.tooMuch", { amount: formatAmount(outstanding) })));
    try {
      setBusy(t("loans.approving"));
      await writeAndWait(session, "SettlementToken", "approve", [session.config.contracts.LoanAgreements, minor]);
      setBusy(t("loans.repaying"));
      await writeAndWait(session, "LoanAgreements", "repay", [BigInt(loan.id), minor]);
      setBusy(t("loans.indexing"));
      const before = BigInt(loan.repaid);
      setLoan(
        await until(
          () => api<LoanView>(`/api/loans/${loan.id}`),
          (v) => BigInt(v.repaid) > before,
        ),
      );
      setAmount("");
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy("");
    }
  }

  const days = loan.daysToMaturity;
  return (
    <article className="loan" data-loan={loan.id} aria-labelledby={`loan-${loan.id}-title`}>
      <header>
        <h3 id={`loan-${loan.id}-title`}>
          {t("loans.heading", { id: loan.id, amount: formatAmount(loan.principal) })} <ParticipantName address={loan.lender} />
          <span className="sub">
            {t("loans.sub", { rate: formatRate(loan.rateBps), start: formatDate(loan.start), maturity: formatDate(loan.maturity) })}
          </span>
        </h3>
        <StandingBadge status={loan.standing} />
      </header>
      <dl className="balance" aria-label={t("loans.balanceLabel", { id: loan.id })}>
        <div>
          <dt>{t("loans.principal")}</dt>
          <dd className="num">{formatAmount(loan.principal)}</dd>
        </div>
        <div>
          <dt>{t("loans.interest")}</dt>
          <dd className="num">{formatAmount(loan.interest)}</dd>
        </div>
        <div>
          <dt>{t("loans.totalDue")}</dt>
          <dd className="num">{formatAmount(loan.totalDue)}</dd>
        </div>
        <div>
          <dt>{t("loans.repaid")}</dt>
          <dd className="num" data-field="repaid">
            {formatAmount(loan.repaid)}
          </dd>
        </div>
        <div>
          <dt>{t("loans.outstanding")}</dt>
          <dd className="num" data-field="outstanding">
            <strong>{formatAmount(loan.outstanding)}</strong>
          </dd>
        </div>
        <div>
          <dt>{t("loans.dueDate")}</dt>
          <dd data-field="due">
            {formatDate(loan.maturity)}
            {open && outstanding > 0n && (
              <span className={days < 0 ? "late" : "muted"}>
                {" · "}
                {days < 0 ? t("loans.overdueDays", { count: -days }) : t("loans.inDays", { count: days })}
              </span>
            )}
          </dd>
        </div>
      </dl>
      {loan.status === "Signed" && <p className="hint">{t("loans.signedOnly")}</p>}
      <h4>{t("loans.schedule")}</h4>
      <Table
        rows={loan.schedule}
        rowKey={(s) => String(s.due)}
        empty={t("loans.scheduleEmpty")}
        caption={t("loans.scheduleCaption")}
        columns={[
          { key: "due", label: t("loans.due"), render: (s) => formatDate(s.due) },
          { key: "amount", label: t("loans.amount"), numeric: true, render: (s) => formatAmount(s.amount) },
          { key: "paid", label: t("loans.paid"), numeric: true, render: (s) => formatAmount(s.paid) },
          { key: "left", label: t("loans.outstanding"), numeric: true, render: (s) => formatAmount(s.outstanding) },
          { key: "status", label: t("loans.status"), render: (s) => <StandingBadge status={s.status} /> },
        ]}
      />
      {open && outstanding > 0n && (
        <form className="actions repay" onSubmit={repay} aria-label={t("loans.repayFormLabel", { id: loan.id })}>
          <label htmlFor={`repay-${loan.id}`}>{t("loans.repayLabel")}</label>
          <input
            id={`repay-${loan.id}`}
            inputMode="decimal"
            autoComplete="off"
            placeholder={minorToInput(loan.outstanding)}
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            aria-describedby={`repay-${loan.id}-hint`}
          />
          <button type="submit" className="primary" disabled={!!busy}>
            {t("loans.repay")}
          </button>
          <span id={`repay-${loan.id}-hint`} className="hint">
            {t("loans.repayHint", { amount: formatAmount(loan.outstanding) })}
          </span>
        </form>
      )}
      {busy && <Waiting text={busy} />}
      <ErrorBox error={error} />
      <h4>{t("loans.history")}</h4>
      <Table
        rows={loan.history}
        rowKey={(h) => `${h.txHash}:${h.kind}:${h.receivableId ?? ""}`}
        empty={t("loans.historyEmpty")}
        caption={t("loans.historyCaption")}
        columns={[
          { key: "when", label: t("loans.when"), render: (h) => formatDateTime(h.at) },
          {
            key: "what",
            label: t("loans.what"),
            render: (h) => (
              <>
                {t(`loans.kind.${h.kind}`)}
                {h.kind === "collection" && h.debtor ? (
                  <>
                    {" "}
                    <ParticipantName address={h.debtor} /> ({t("loans.receivable", { id: h.receivableId })})
                  </>
                ) : null}
              </>
            ),
          },
          { key: "amount", label: t("loans.amount"), numeric: true, render: (h) => formatAmount(h.amount) },
          { key: "tx", label: t("loans.tx"), render: (h) => <TxHash hash={h.txHash} /> },
        ]}
      />
      {loan.collateral.length > 0 && (
        <div className="hint">
          {t("loans.pledged")}
          <ul>
            {loan.collateral.map((c) => (
              <li key={c.receivableId}>
                {t("loans.pledgedItem", { id: c.receivableId, date: formatDate(c.maturity) })}{" "}
                {c.debtor ? <ParticipantName address={c.debtor} /> : "—"}
              </li>
            ))}
          </ul>
        </div>
      )}
    </article>
  );
}

/** A loan's, an instalment's or a consent's standing as a coloured pill, worded in the current language. */
function StandingBadge({ status }: { status: string }) {
  const t = useT("loan");
  const key = status.toLowerCase().replace(/[^a-z_]/g, "");
  return <span className={`badge badge-${key}`}>{t(`standing.${status}`)}</span>;
}

interface ConsentView {
  key: string;
  lender: string;
  scopes: number;
  scopeNames: string[];
  grantedAt: number;
  expiresAt: number;
  revokedAt?: number;
  inForce: boolean;
}

/** The consents the borrower granted: scope, expiry, state; revocable from the wallet. */
export function BorrowerConsents() {
  const t = useT("loan");
  const session = useSession();
  const consents = useLoad(() => api<{ consents: ConsentView[] }>("/api/consents"), [session.me?.address]);
  const [busy, setBusy] = useState("");
  const [error, setError] = useState<unknown>();
  const label = (key: string) => SCOPES.find((s) => s.key === key)?.label ?? key;

  async function revoke(c: ConsentView) {
    setError(undefined);
    try {
      setBusy(c.key);
      await writeAndWait(session, "ConsentRegistry", "revoke", [c.lender]);
      await until(
        () => api<{ consents: ConsentView[] }>(`/api/consents?counterparty=${c.lender}`),
        (v) => v.consents.some((x) => x.revokedAt !== undefined),
      );
      consents.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy("");
    }
  }

  return (
    <Card title={t("consents.title")}>
      {consents.loading && !consents.data ? <Waiting text={t("consents.loading")} /> : null}
      <ErrorBox error={consents.error ?? error} />
      {consents.data && (
        <Table
          rows={consents.data.consents}
          rowKey={(c) => c.key}
          empty={t("consents.empty")}
          caption={t("consents.caption")}
          columns={[
            { key: "lender", label: t("consents.lender"), render: (c) => <ParticipantName address={c.lender} /> },
            { key: "scopes", label: t("consents.scopes"), render: (c) => c.scopeNames.map(label).join(", ") },
            { key: "granted", label: t("consents.granted"), render: (c) => formatDateTime(c.grantedAt) },
            {
              key: "expires",
              label: t("consents.expires"),
              render: (c) => <span data-expires={c.expiresAt}>{formatDateTime(c.expiresAt)}</span>,
            },
            {
              key: "state",
              label: t("consents.state"),
              render: (c) => <StandingBadge status={c.revokedAt !== undefined ? "revoked" : c.inForce ? "in_force" : "expired"} />,
            },
            {
              key: "act",
              label: t("consents.action"),
              render: (c) =>
                c.inForce ? (
                  <button
                    type="button"
                    className="secondary"
                    disabled={!!busy}
                    onClick={() => revoke(c)}
                    aria-label={t("consents.revokeLabel")}
                  >
                    {busy === c.key ? t("consents.revoking") : t("consents.revoke")}
                  </button>
                ) : c.revokedAt !== undefined ? (
                  <span className="muted">{t("consents.revokedAt", { date: formatDateTime(c.revokedAt) })}</span>
                ) : (
                  "—"
                ),
            },
          ]}
        />
      )}
    </Card>
  );
}

interface QuoteView {
  outcome: string;
  limit: string;
  minAmount: string;
  amount: string;
  termDays: number;
  rateBps: number;
  fees: string;
  interest: string;
  totalDue: string;
  maturity: number;
  reasons: { code: string; message: string; effect?: string }[];
}

/** The price the policy would give these terms now, recomputed as the form changes (nothing is stored). */
export function Quote({
  amount,
  termDays,
  receivableIds,
  lender,
}: {
  amount: bigint | null;
  termDays: number;
  receivableIds: string[];
  lender: string;
}) {
  const t = useT("loan");
  const [quote, setQuote] = useState<QuoteView>();
  const [error, setError] = useState<unknown>();
  const key = `${amount ?? ""}|${termDays}|${receivableIds.join(",")}|${lender}`;
  useEffect(() => {
    if (receivableIds.length === 0) {
      setQuote(undefined);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api<QuoteView>("/api/applications/quote", {
        method: "POST",
        json: {
          termDays,
          receivableIds,
          ...(amount !== null && amount > 0n ? { amount: amount.toString() } : {}),
          ...(lender ? { lender } : {}),
        },
      }).then(
        (q) => live && (setQuote(q), setError(undefined)),
        (e) => live && setError(e),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key]);
  if (receivableIds.length === 0) return <p className="hint">{t("quote.chooseReceivable")}</p>;
  if (error) return <ErrorBox error={error} />;
  if (!quote) return <Waiting text={t("quote.loading")} />;
  const blocking = quote.reasons.filter((r) => r.effect === "decline" || r.effect === "refer");
  return (
    <section className="quote" aria-label={t("quote.title")} aria-live="polite">
      <h3>{t("quote.title")}</h3>
      <dl>
        <dt>{t("quote.limit")}</dt>
        <dd data-field="quote-limit">{formatAmount(quote.limit)}</dd>
        <dt>{t("quote.amount")}</dt>
        <dd data-field="quote-amount">{formatAmount(quote.amount)}</dd>
        <dt>{t("quote.rate")}</dt>
        <dd data-field="quote-rate">{t("quote.rateValue", { rate: formatRate(quote.rateBps) })}</dd>
        <dt>{t("quote.fees")}</dt>
        <dd>{formatAmount(quote.fees)}</dd>
        <dt>{t("quote.interest", { days: quote.termDays })}</dt>
        <dd>{formatAmount(quote.interest)}</dd>
        <dt>{t("quote.total")}</dt>
        <dd data-field="quote-total">
          <strong>{formatAmount(quote.totalDue)}</strong> {t("quote.totalOn", { date: formatDate(quote.maturity) })}
        </dd>
      </dl>
      {blocking.length > 0 ? (
        <p className="hint warn">
          {quote.outcome === "refer" ? t("quote.wouldRefer") : t("quote.wouldDecline")} <span lang="en">{serviceMessages(blocking)}</span>
        </p>
      ) : (
        <p className="hint">{t("quote.estimate")}</p>
      )}
    </section>
  );
}

/** The service's reasons, in its own words (English), one after the other. */
function serviceMessages(reasons: { message: string }[]): string {
  return reasons.map((r) => r.message).join("; ");
}
