/**
 * The participant's webhook for its own systems (a bank's, a manufacturer's ERP): register or replace
 * the URL (the HMAC secret is shown this once, with how a receiver checks X-SCF-Signature), remove it,
 * and the recent deliveries with their outcome, HTTP status and attempt. Mounted as a tab in the
 * manufacturer's and the lender's rooms. The service refuses URLs to non-public addresses (400 on `url`).
 */
import { useState, type FormEvent } from "react";
import { api, ApiRequestError } from "../api";
import { formatDateTime, Trans, useT } from "../i18n";
import { useSession } from "../hooks/session";
import { Card, Empty, ErrorBox, Loading, Table, useLoad } from "./ui";
import type { DeliveryLogEntry, NotificationService } from "../../../node-service/src/notifications/service";
import "./Webhook.css";

type WebhookView = NonNullable<ReturnType<NotificationService["webhookOf"]>>;

const isoSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function WebhookSettings() {
  const t = useT("webhook");
  const session = useSession();
  const who = session.me?.address;
  const hook = useLoad(() => api<{ webhook: WebhookView | null }>("/api/webhook"), [who]);
  const deliveries = useLoad(() => api<{ pending: number; log: DeliveryLogEntry[] }>("/api/webhook/deliveries"), [who]);
  const [url, setUrl] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  /** Ours (a missing address), or the service's refusal (its English words, marked as such). */
  const [urlError, setUrlError] = useState<{ text: string; refused?: boolean }>();
  const [secret, setSecret] = useState<string>();
  const [copied, setCopied] = useState(false);
  const current = hook.data?.webhook ?? null;

  async function register(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    setUrlError(undefined);
    setSecret(undefined);
    setCopied(false);
    if (!url.trim()) {
      setUrlError({ text: t("form.urlRequired") });
      return;
    }
    setBusy(true);
    try {
      const r = await api<{ url: string; secret: string; createdAt: number }>("/api/webhook", {
        method: "PUT",
        json: { url: url.trim() },
      });
      setSecret(r.secret);
      setUrl("");
      hook.reload();
      deliveries.reload();
    } catch (err) {
      if (err instanceof ApiRequestError && err.field === "url") setUrlError({ text: err.message, refused: true });
      else setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setError(undefined);
    setSecret(undefined);
    setBusy(true);
    try {
      await api("/api/webhook", { method: "DELETE" });
      hook.reload();
      deliveries.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard (insecure page, refused): the secret stays selectable
    }
  }

  return (
    <div className="webhook">
      <Card title={t("title")}>
        <p className="hint">{t("intro")}</p>
        {hook.loading && !hook.data ? <Loading what={t("loading")} /> : null}
        <ErrorBox error={hook.error ?? error} onRetry={hook.reload} />
        {hook.data &&
          (current ? (
            <dl className="webhook-current" data-webhook-url={current.url}>
              <dt>{t("current.url")}</dt>
              <dd>
                <code>{current.url}</code>
              </dd>
              <dt>{t("current.since")}</dt>
              <dd>{formatDateTime(current.createdAt)}</dd>
            </dl>
          ) : (
            <Empty>{t("current.none")}</Empty>
          ))}
        {secret && (
          <section className="webhook-secret" aria-labelledby="webhook-secret-title" data-secret-shown="">
            <h3 id="webhook-secret-title">{t("secret.title")}</h3>
            <p>
              <strong>{t("secret.once")}</strong>
            </p>
            <div className="secret-row">
              <code id="webhook-secret" tabIndex={0} aria-label={t("secret.label")}>
                {secret}
              </code>
              <button type="button" className="secondary" onClick={() => void copy()}>
                {t("secret.copy")}
              </button>
            </div>
            <p role="status" className="hint">
              {copied ? t("secret.copied") : t("secret.copyHint")}
            </p>
            <h4>{t("verify.title")}</h4>
            <ol className="verify-steps">
              {(["header", "compute", "compare", "fresh"] as const).map((step) => (
                <li key={step}>
                  <Trans t={t} i18nKey={`verify.${step}`} components={{ c: <code /> }} />
                </li>
              ))}
            </ol>
          </section>
        )}
        <form className="webhook-form" onSubmit={(e) => void register(e)} noValidate>
          <label htmlFor="webhook-url">{current ? t("form.replaceLabel") : t("form.urlLabel")}</label>
          <div className="webhook-field">
            <input
              id="webhook-url"
              type="url"
              inputMode="url"
              placeholder={t("form.placeholder")}
              value={url}
              onChange={(e) => {
                setUrl(e.target.value);
                setUrlError(undefined);
              }}
              aria-invalid={urlError ? true : undefined}
              aria-describedby={urlError ? "webhook-url-error webhook-url-hint" : "webhook-url-hint"}
            />
            <button type="submit" disabled={busy}>
              {current ? t("form.replace") : t("form.register")}
            </button>
          </div>
          {urlError && (
            <p id="webhook-url-error" className="field-error" role="alert">
              {urlError.refused ? (
                <>
                  {t("form.urlRefused")} <span lang="en">{urlError.text}</span>
                </>
              ) : (
                urlError.text
              )}
            </p>
          )}
          <p id="webhook-url-hint" className="hint">
            {t("form.hint")}
          </p>
        </form>
        {current && (
          <p>
            <button type="button" className="secondary" disabled={busy} onClick={() => void remove()}>
              {t("remove")}
            </button>
          </p>
        )}
      </Card>
      <Card
        title={t("deliveries.title")}
        actions={
          <button type="button" className="secondary" onClick={deliveries.reload}>
            {t("deliveries.refresh")}
          </button>
        }
      >
        {deliveries.loading && !deliveries.data ? <Loading what={t("deliveries.loading")} /> : null}
        <ErrorBox error={deliveries.error} onRetry={deliveries.reload} />
        {deliveries.data && (
          <>
            <p data-pending={deliveries.data.pending}>{t("deliveries.pending", { count: deliveries.data.pending })}</p>
            <Table
              rows={deliveries.data.log}
              rowKey={(d) => `${d.deliveryId}:${d.attempt}`}
              empty={t("deliveries.empty")}
              caption={t("deliveries.caption")}
              columns={[
                { key: "at", label: t("deliveries.at"), render: (d) => formatDateTime(isoSeconds(d.at)) },
                { key: "notification", label: t("deliveries.notification"), render: (d) => <code>{d.notificationId}</code> },
                { key: "attempt", label: t("deliveries.attempt"), numeric: true, render: (d) => d.attempt },
                {
                  key: "outcome",
                  label: t("deliveries.outcome"),
                  render: (d) => (
                    <span
                      className={`badge badge-${d.outcome === "delivered" ? "delivered" : d.outcome === "failed" ? "in_review" : "declined"}`}
                      data-outcome={d.outcome}
                    >
                      {t(`outcome.${d.outcome}`)}
                    </span>
                  ),
                },
                {
                  key: "status",
                  label: t("deliveries.status"),
                  render: (d) => (d.status !== undefined ? d.status : d.error ? <span lang="en">{d.error}</span> : t("deliveries.none")),
                },
                {
                  key: "next",
                  label: t("deliveries.next"),
                  render: (d) => (d.nextAttemptAt ? formatDateTime(isoSeconds(d.nextAttemptAt)) : t("deliveries.none")),
                },
              ]}
            />
          </>
        )}
      </Card>
    </div>
  );
}
