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
import { useT } from "../i18n";
import { errorText } from "./ServiceText";

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
  const t = useT("apply");
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
          ? t("review.amountAboveLimit", { limit: formatAmount(limit) })
          : null
        : minor === null
          ? t("amount.invalid")
          : minor > asked
            ? t("review.amountAboveAsked", { asked: formatAmount(asked) })
            : minor < min
              ? t("amount.belowMin", { min: formatAmount(min) })
              : null;
  const rateError =
    serverField?.field === "rateBps"
      ? serverField.message
      : outcome !== "change_terms"
        ? null
        : rateBps === null
          ? t("review.rateInvalid")
          : bounds && (rateBps < bounds.minRateBps || rateBps > bounds.maxRateBps)
            ? t("review.rateOutside", { min: formatRate(bounds.minRateBps), max: formatRate(bounds.maxRateBps) })
            : null;
  const overrideError =
    serverField?.field === "overrideLimit.reason"
      ? serverField.message
      : aboveLimit && override && submitted && overrideReason.trim().length < 10
        ? t("review.overrideReasonShort")
        : null;
  const reasonError =
    serverField?.field === "reason" ? serverField.message : submitted && reason.trim().length < 3 ? t("review.reasonRequired") : null;

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
      if (err instanceof ApiRequestError && err.field) setServerField({ field: err.field, message: errorText(err) });
      else setError(err);
    } finally {
      setBusy(false);
    }
  }

  const clear = (field: string) => serverField?.field === field && setServerField(undefined);

  return (
    <form className="review" aria-label={t("review.form")} onSubmit={submit} noValidate>
      <dl className="bounds" aria-label={t("review.bounds")}>
        <dt>{t("review.asked")}</dt>
        <dd>{formatAmount(asked)}</dd>
        <dt>{t("review.limit")}</dt>
        <dd>{formatAmount(limit)}</dd>
        {bounds && (
          <>
            <dt>{t("review.rate")}</dt>
            <dd>
              {t("review.rateRange", { min: formatRate(bounds.minRateBps), max: formatRate(bounds.maxRateBps) })}
              {app.decision ? t("review.priced", { rate: formatRate(app.decision.rateBps) }) : ""}
            </dd>
          </>
        )}
      </dl>
      <fieldset>
        <legend>{t("review.outcome")}</legend>
        {(["approve", "decline", "change_terms"] as const).map((o) => (
          <label key={o} className="check">
            <input type="radio" name="outcome" value={o} checked={outcome === o} onChange={() => setOutcome(o)} />
            {t(o === "change_terms" ? "review.changeTerms" : o === "approve" ? "review.approve" : "review.decline")}
          </label>
        ))}
      </fieldset>
      {outcome === "change_terms" && (
        <div className="grid2">
          <div>
            <label htmlFor={`review-amount-${app.id}`}>{t("review.newAmount", { max: formatAmount(asked) })}</label>
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
            <label htmlFor={`review-rate-${app.id}`}>{t("review.newRate")}</label>
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
          <p>{t("review.overrideNeeded", { amount: formatAmount(minor!), limit: formatAmount(limit) })}</p>
          <label className="check">
            <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} /> {t("review.overrideCheck")}
          </label>
          {override && (
            <>
              <label htmlFor={`override-reason-${app.id}`}>{t("review.overrideReason")}</label>
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
      <label htmlFor="review-reason">{t("review.reason")}</label>
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
        {t("review.submit")}
      </button>
    </form>
  );
}

/** Declining, with a reason, an application that is not on chain yet (at any step before that). */
export function DeclineForm({ app, onChange }: { app: ApplicationView; onChange: (a: ApplicationView) => void }) {
  const t = useT("apply");
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button type="button" className="link" onClick={() => setOpen(true)}>
        {t("decline.button")}
      </button>
    );
  }
  return (
    <form
      className="decline"
      aria-label={t("decline.label")}
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
      <label htmlFor={`decline-reason-${app.id}`}>{t("decline.reason")}</label>
      <textarea id={`decline-reason-${app.id}`} value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} />
      <button type="submit" disabled={busy}>
        {t("decline.submit")}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
