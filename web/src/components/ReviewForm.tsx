/**
 * The lender's decisions on an application: the review of a referred one (approve, decline, approve
 * with changed terms) with the bounds shown before submitting, the same bounds the service enforces
 * (never more than the borrower asked, a rate within the policy's range, above the policy's limit only
 * as an override with its reason); and declining, with a reason, any application not yet on chain.
 */
import { useState } from "react";
import { api, ApiRequestError } from "../api";
import type { ApplicationView } from "../hooks/applications";
import { formatAmount, formatRate, minorToInput, parseAmountInput } from "../format";
import { ErrorBox } from "./ui";

type Outcome = "approve" | "decline" | "change_terms";

/** "9.5" or "9.50" (% a year) -> 950 bps; null when not a rate with at most two decimals. */
export function parseRatePercent(text: string): number | null {
  const m = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}

function FieldError({ id, message }: { id: string; message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p id={id} className="field-error" role="alert">
      {message}
    </p>
  );
}

export function ReviewForm({ app, onChange }: { app: ApplicationView; onChange: (a: ApplicationView) => void }) {
  const bounds = app.reviewBounds;
  const asked = BigInt(bounds?.maxAmount ?? app.amount);
  const limit = bounds ? BigInt(bounds.limit) : asked;
  const min = BigInt(bounds?.minAmount ?? "0");
  const [outcome, setOutcome] = useState<Outcome>("approve");
  const [reason, setReason] = useState("");
  const [amount, setAmount] = useState(minorToInput(asked < limit ? asked : limit));
  const [rate, setRate] = useState(app.decision ? (app.decision.rateBps / 100).toFixed(2) : "");
  const [override, setOverride] = useState(false);
  const [overrideReason, setOverrideReason] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const [serverField, setServerField] = useState<{ field: string; message: string }>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const approving = outcome !== "decline";
  const minor = outcome === "change_terms" ? parseAmountInput(amount) : BigInt(app.amount);
  const rateBps = parseRatePercent(rate);
  const aboveLimit = approving && minor !== null && minor > limit;

  const amountError =
    serverField?.field === "amount"
      ? serverField.message
      : outcome !== "change_terms"
        ? aboveLimit && submitted && !override
          ? `The amount asked is above the policy's limit of ${formatAmount(limit)}: approve with changed terms, or override the limit with a reason`
          : null
        : minor === null
          ? "Enter the amount in yuan with at most two decimals, such as 250,000.00"
          : minor > asked
            ? `At most ${formatAmount(asked)}: never more than the borrower asked for`
            : minor < min
              ? `The smallest loan is ${formatAmount(min)}`
              : null;
  const rateError =
    serverField?.field === "rateBps"
      ? serverField.message
      : outcome !== "change_terms"
        ? null
        : rateBps === null
          ? "Enter the annual rate in percent, such as 9.50"
          : bounds && (rateBps < bounds.minRateBps || rateBps > bounds.maxRateBps)
            ? `Between ${formatRate(bounds.minRateBps)} and ${formatRate(bounds.maxRateBps)} a year (the policy's pricing range)`
            : null;
  const overrideError =
    serverField?.field === "overrideLimit.reason"
      ? serverField.message
      : aboveLimit && override && submitted && overrideReason.trim().length < 10
        ? "Give the reason for going above the limit (at least 10 characters); both parties see it"
        : null;
  const reasonError =
    serverField?.field === "reason" ? serverField.message : submitted && reason.trim().length < 3 ? "A reason is required" : null;

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setServerField(undefined);
    setError(undefined);
    const blocked =
      reason.trim().length < 3 ||
      (approving && (amountError !== null || rateError !== null)) ||
      (aboveLimit && (!override || overrideReason.trim().length < 10));
    if (blocked || (outcome === "change_terms" && (minor === null || rateBps === null))) return;
    const body: Record<string, unknown> = { outcome, reason };
    if (outcome === "change_terms") {
      body.amount = minor!.toString();
      body.rateBps = rateBps;
    }
    if (aboveLimit) body.overrideLimit = { reason: overrideReason };
    setBusy(true);
    try {
      onChange(await api<ApplicationView>(`/api/applications/${app.id}/review`, { method: "POST", json: body }));
    } catch (err) {
      if (err instanceof ApiRequestError && err.field) setServerField({ field: err.field, message: err.message });
      else setError(err);
    } finally {
      setBusy(false);
    }
  }

  const clear = (field: string) => serverField?.field === field && setServerField(undefined);

  return (
    <form className="review" aria-label="Review" onSubmit={submit} noValidate>
      <dl className="bounds" aria-label="What you may approve">
        <dt>The borrower asked for</dt>
        <dd>{formatAmount(asked)}</dd>
        <dt>The policy's limit</dt>
        <dd>{formatAmount(limit)}</dd>
        {bounds && (
          <>
            <dt>Rate</dt>
            <dd>
              {formatRate(bounds.minRateBps)} to {formatRate(bounds.maxRateBps)} a year
              {app.decision ? ` (the policy priced it at ${formatRate(app.decision.rateBps)})` : ""}
            </dd>
          </>
        )}
      </dl>
      <fieldset>
        <legend>Outcome</legend>
        {(["approve", "decline", "change_terms"] as const).map((o) => (
          <label key={o} className="check">
            <input type="radio" name="outcome" value={o} checked={outcome === o} onChange={() => setOutcome(o)} />
            {o === "change_terms" ? "Approve with changed terms" : o === "approve" ? "Approve" : "Decline"}
          </label>
        ))}
      </fieldset>
      {outcome === "change_terms" && (
        <div className="grid2">
          <div>
            <label htmlFor={`review-amount-${app.id}`}>New amount (CNY, at most {formatAmount(asked)})</label>
            <input
              id={`review-amount-${app.id}`}
              value={amount}
              onChange={(e) => {
                setAmount(e.target.value);
                clear("amount");
              }}
              inputMode="decimal"
              aria-invalid={amountError ? true : undefined}
              aria-describedby={amountError ? `review-amount-error-${app.id}` : undefined}
            />
            <FieldError id={`review-amount-error-${app.id}`} message={amountError} />
          </div>
          <div>
            <label htmlFor={`review-rate-${app.id}`}>Rate (% a year, required)</label>
            <input
              id={`review-rate-${app.id}`}
              value={rate}
              onChange={(e) => {
                setRate(e.target.value);
                clear("rateBps");
              }}
              inputMode="decimal"
              aria-invalid={rateError ? true : undefined}
              aria-describedby={rateError ? `review-rate-error-${app.id}` : undefined}
            />
            <FieldError id={`review-rate-error-${app.id}`} message={rateError} />
          </div>
        </div>
      )}
      {outcome === "approve" && <FieldError id={`review-amount-error-${app.id}`} message={amountError} />}
      {aboveLimit && (
        <div className="override">
          <p>
            {formatAmount(minor!)} is above the policy's limit of {formatAmount(limit)}. Approving it is an override: it is recorded with
            your reason and shown to the borrower as such.
          </p>
          <label className="check">
            <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} /> Override the policy's limit
          </label>
          {override && (
            <>
              <label htmlFor={`override-reason-${app.id}`}>Reason for the override</label>
              <textarea
                id={`override-reason-${app.id}`}
                value={overrideReason}
                onChange={(e) => {
                  setOverrideReason(e.target.value);
                  clear("overrideLimit.reason");
                }}
                aria-invalid={overrideError ? true : undefined}
                aria-describedby={overrideError ? `override-reason-error-${app.id}` : undefined}
              />
            </>
          )}
          <FieldError id={`override-reason-error-${app.id}`} message={overrideError} />
        </div>
      )}
      <label htmlFor="review-reason">Reason (required, kept with the decision)</label>
      <textarea
        id="review-reason"
        value={reason}
        onChange={(e) => {
          setReason(e.target.value);
          clear("reason");
        }}
        required
        minLength={3}
        aria-invalid={reasonError ? true : undefined}
        aria-describedby={reasonError ? "review-reason-error" : undefined}
      />
      <FieldError id="review-reason-error" message={reasonError} />
      <ErrorBox error={error} />
      <button type="submit" disabled={busy}>
        Record decision
      </button>
    </form>
  );
}

/** Declining, with a reason, an application that is not on chain yet (at any step before that). */
export function DeclineForm({ app, onChange }: { app: ApplicationView; onChange: (a: ApplicationView) => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button type="button" className="link" onClick={() => setOpen(true)}>
        Decline this application
      </button>
    );
  }
  return (
    <form
      className="decline"
      aria-label="Decline"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
          onChange(await api<ApplicationView>(`/api/applications/${app.id}/decline`, { method: "POST", json: { reason } }));
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label htmlFor={`decline-reason-${app.id}`}>Reason for declining (the borrower sees it)</label>
      <textarea id={`decline-reason-${app.id}`} value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} />
      <button type="submit" disabled={busy}>
        Decline
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
