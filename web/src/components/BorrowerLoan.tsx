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
import { formatAmount, formatDate, formatDateTime, formatRate, minorToInput, parseAmountInput, shortHex } from "../format";
import { usePartyName, useSession, type Session } from "../hooks/session";
import { publicClientOf } from "../wallet";
import { Badge, Card, Empty, ErrorBox, Loading, Table, useLoad } from "./ui";
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
  if (!wallet) throw new Error("sign in with your wallet again to send this transaction (the session was restored without a wallet)");
  const hash = await wallet.client.writeContract({
    account: wallet.account,
    chain: wallet.client.chain,
    address: session.config.contracts[contract],
    abi: ABI[contract],
    functionName,
    args,
  } as never);
  const receipt = await publicClientOf(session.config).waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`the transaction ${hash} reverted`);
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

const HISTORY_LABEL: Record<LoanView["history"][number]["kind"], string> = {
  disbursement: "Disbursed to you",
  repayment: "You repaid",
  collection: "Collected from the debtor",
};

/** The borrower's loans, newest first. */
export function BorrowerLoans() {
  const session = useSession();
  const loans = useLoad(() => api<{ loans: LoanView[] }>("/api/loans"), [session.me?.address]);
  // Other parties' steps (a debtor paying, the lender disbursing) arrive with the application events.
  useEffect(() => {
    const source = new EventSource("/api/events");
    source.addEventListener("application", () => loans.reload());
    return () => source.close();
  }, []);
  if (loans.loading && !loans.data) return <Loading what="your loans" />;
  return (
    <Card title="My loans">
      <ErrorBox error={loans.error} />
      {loans.data && loans.data.loans.length === 0 && (
        <Empty>No loan yet. A loan appears here once both parties have signed its agreement.</Empty>
      )}
      {loans.data?.loans.map((l) => (
        <LoanCard key={l.id} loan={l} onChange={loans.reload} />
      ))}
    </Card>
  );
}

function LoanCard({ loan: initial, onChange }: { loan: LoanView; onChange: () => void }) {
  const session = useSession();
  const name = usePartyName();
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
    if (minor === null || minor <= 0n) return setError(new Error("Enter an amount such as 1,250.00"));
    if (minor > outstanding) return setError(new Error(`At most the outstanding ${formatAmount(outstanding)}`));
    try {
      setBusy("Allowing the loan contract to take the repayment: confirm in your wallet…");
      await writeAndWait(session, "SettlementToken", "approve", [session.config.contracts.LoanAgreements, minor]);
      setBusy("Repaying on chain: confirm in your wallet…");
      await writeAndWait(session, "LoanAgreements", "repay", [BigInt(loan.id), minor]);
      setBusy("Waiting for the repayment to be indexed…");
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

  return (
    <article className="loan" data-loan={loan.id} aria-labelledby={`loan-${loan.id}-title`}>
      <header>
        <h3 id={`loan-${loan.id}-title`}>
          Loan #{loan.id}: {formatAmount(loan.principal)} from {name(loan.lender)}
          <span className="sub">
            {formatRate(loan.rateBps)} a year · signed for {formatDate(loan.start)} to {formatDate(loan.maturity)}
          </span>
        </h3>
        <Badge status={loan.standing} />
      </header>
      <dl className="balance" aria-label={`Balance of loan ${loan.id}`}>
        <div>
          <dt>Principal</dt>
          <dd className="num">{formatAmount(loan.principal)}</dd>
        </div>
        <div>
          <dt>Interest to maturity</dt>
          <dd className="num">{formatAmount(loan.interest)}</dd>
        </div>
        <div>
          <dt>Total due</dt>
          <dd className="num">{formatAmount(loan.totalDue)}</dd>
        </div>
        <div>
          <dt>Repaid</dt>
          <dd className="num" data-field="repaid">
            {formatAmount(loan.repaid)}
          </dd>
        </div>
        <div>
          <dt>Outstanding</dt>
          <dd className="num" data-field="outstanding">
            <strong>{formatAmount(loan.outstanding)}</strong>
          </dd>
        </div>
        <div>
          <dt>Due date</dt>
          <dd data-field="due">
            {formatDate(loan.maturity)}
            {open && outstanding > 0n && (
              <span className={loan.daysToMaturity < 0 ? "late" : "muted"}>
                {" "}
                {loan.daysToMaturity < 0 ? `· ${-loan.daysToMaturity} days overdue` : `· in ${loan.daysToMaturity} days`}
              </span>
            )}
          </dd>
        </div>
      </dl>
      {loan.status === "Signed" && (
        <p className="hint">Signed by both parties; the lender has not disbursed yet. Nothing is owed until it does.</p>
      )}
      <h4>Repayment schedule</h4>
      <Table
        rows={loan.schedule}
        rowKey={(s) => String(s.due)}
        empty="No schedule before disbursement."
        caption="What is due and when: the whole total due at maturity; collections on the pledged receivables count towards it"
        columns={[
          { key: "due", label: "Due", render: (s) => formatDate(s.due) },
          { key: "amount", label: "Amount", numeric: true, render: (s) => formatAmount(s.amount) },
          { key: "paid", label: "Paid", numeric: true, render: (s) => formatAmount(s.paid) },
          { key: "left", label: "Outstanding", numeric: true, render: (s) => formatAmount(s.outstanding) },
          { key: "status", label: "Status", render: (s) => <Badge status={s.status} /> },
        ]}
      />
      {open && outstanding > 0n && (
        <form className="actions repay" onSubmit={repay} aria-label={`Repay loan ${loan.id}`}>
          <label htmlFor={`repay-${loan.id}`}>Repay (CNY)</label>
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
            Repay
          </button>
          <span id={`repay-${loan.id}-hint`} className="hint">
            Empty repays the whole outstanding {formatAmount(loan.outstanding)}. Your wallet sends two transactions: an allowance, then the
            repayment.
          </span>
        </form>
      )}
      {busy && (
        <p className="state loading" role="status">
          {busy}
        </p>
      )}
      <ErrorBox error={error} />
      <h4>Repayments and collections</h4>
      <Table
        rows={loan.history}
        rowKey={(h) => `${h.txHash}:${h.kind}:${h.receivableId ?? ""}`}
        empty="Nothing has moved yet."
        caption="Money moved on this loan, from the chain's events"
        columns={[
          { key: "when", label: "When", render: (h) => formatDateTime(h.at) },
          {
            key: "what",
            label: "What",
            render: (h) => (
              <>
                {HISTORY_LABEL[h.kind]}
                {h.kind === "collection" && h.debtor ? ` ${name(h.debtor)} (receivable #${h.receivableId})` : ""}
              </>
            ),
          },
          { key: "amount", label: "Amount", numeric: true, render: (h) => formatAmount(h.amount) },
          { key: "tx", label: "Transaction", render: (h) => <code title={h.txHash}>{shortHex(h.txHash, 4)}</code> },
        ]}
      />
      {loan.collateral.length > 0 && (
        <p className="hint">
          Pledged:{" "}
          {loan.collateral
            .map(
              (c) =>
                `receivable #${c.receivableId}${c.debtor ? ` owed by ${name(c.debtor)}` : ""}${c.maturity ? `, due ${formatDate(c.maturity)}` : ""}`,
            )
            .join("; ")}
          . When a debtor pays, the loan is repaid first.
        </p>
      )}
    </article>
  );
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
  const session = useSession();
  const name = usePartyName();
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
    <Card title="My consents">
      {consents.loading && !consents.data ? <Loading what="your consents" /> : null}
      <ErrorBox error={consents.error ?? error} />
      {consents.data && (
        <Table
          rows={consents.data.consents}
          rowKey={(c) => c.key}
          empty="You have granted no lender a consent."
          caption="What each lender may read of your data, until when; revoking ends it on chain at once"
          columns={[
            { key: "lender", label: "Lender", render: (c) => name(c.lender) },
            { key: "scopes", label: "Data it may use", render: (c) => c.scopeNames.map(label).join(", ") },
            { key: "granted", label: "Granted", render: (c) => formatDateTime(c.grantedAt) },
            { key: "expires", label: "Expires", render: (c) => formatDateTime(c.expiresAt) },
            {
              key: "state",
              label: "State",
              render: (c) => <Badge status={c.revokedAt !== undefined ? "revoked" : c.inForce ? "in_force" : "expired"} />,
            },
            {
              key: "act",
              label: "Action",
              render: (c) =>
                c.inForce ? (
                  <button
                    type="button"
                    className="secondary"
                    disabled={!!busy}
                    onClick={() => revoke(c)}
                    aria-label={`Revoke the consent to ${name(c.lender)}`}
                  >
                    {busy === c.key ? "Revoking…" : "Revoke"}
                  </button>
                ) : c.revokedAt !== undefined ? (
                  <span className="muted">revoked {formatDateTime(c.revokedAt)}</span>
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
  const [quote, setQuote] = useState<QuoteView>();
  const [error, setError] = useState<unknown>();
  const key = `${amount ?? ""}|${termDays}|${receivableIds.join(",")}|${lender}`;
  useEffect(() => {
    if (receivableIds.length === 0) {
      setQuote(undefined);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
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
      clearTimeout(t);
    };
  }, [key]);
  if (receivableIds.length === 0) return <p className="hint">Choose at least one receivable to see the price.</p>;
  if (error) return <ErrorBox error={error} />;
  if (!quote) return <Loading what="the price" />;
  const blocking = quote.reasons.filter((r) => r.effect === "decline" || r.effect === "refer");
  return (
    <section className="quote" aria-label="Price before applying" aria-live="polite">
      <h3>Price before applying</h3>
      <dl>
        <dt>Limit for the selected receivables</dt>
        <dd data-field="quote-limit">{formatAmount(quote.limit)}</dd>
        <dt>Amount</dt>
        <dd data-field="quote-amount">{formatAmount(quote.amount)}</dd>
        <dt>Rate</dt>
        <dd data-field="quote-rate">{formatRate(quote.rateBps)} a year</dd>
        <dt>Fees</dt>
        <dd>{formatAmount(quote.fees)}</dd>
        <dt>Interest for {quote.termDays} days</dt>
        <dd>{formatAmount(quote.interest)}</dd>
        <dt>Total due at maturity</dt>
        <dd data-field="quote-total">
          <strong>{formatAmount(quote.totalDue)}</strong> on about {formatDate(quote.maturity)}
        </dd>
      </dl>
      {blocking.length > 0 ? (
        <p className="hint warn">
          As entered, the policy would {quote.outcome === "refer" ? "send this to a reviewer" : "decline"}:{" "}
          {blocking.map((r) => r.message).join("; ")}.
        </p>
      ) : (
        <p className="hint">An estimate from the policy on today's chain data; the offer is fixed when the lender's decision is made.</p>
      )}
    </section>
  );
}
