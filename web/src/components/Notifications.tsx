/**
 * The bell in the top bar: the signed-in participant's notifications (steps waiting on it, due soon,
 * overdue) with the unread count, kept current by the live application events and a slow poll (time
 * alone makes a loan due soon or overdue). Opening the list marks nothing; "Mark all read" does, on disk.
 */
import { useEffect, useState } from "react";
import { api } from "../api";
import { formatAmount, formatDate, formatDateTime, useT } from "../i18n";
import { useParticipantNames } from "../hooks/participants";
import { shortHex } from "../format";
import "./BorrowerLoan.css";

interface NotificationView {
  id: string;
  kind: string;
  at: number;
  applicationId?: string;
  loanId?: string;
  counterparty: string;
  amount: string;
  due?: number;
  read: boolean;
}

const POLL_MS = 30_000;

export function NotificationBell({ account }: { account: string }) {
  const t = useT("loan");
  const names = useParticipantNames();
  const [data, setData] = useState<{ unread: number; items: NotificationView[] }>();
  const [open, setOpen] = useState(false);

  useEffect(() => {
    let live = true;
    const load = () =>
      api<{ unread: number; items: NotificationView[] }>("/api/notifications").then(
        (d) => live && setData(d),
        () => undefined, // offline or signed out: keep what is shown
      );
    void load();
    const source = new EventSource("/api/events");
    source.addEventListener("application", () => void load());
    const timer = setInterval(() => void load(), POLL_MS);
    return () => {
      live = false;
      source.close();
      clearInterval(timer);
    };
  }, [account]);

  async function markAll() {
    const r = await api<{ unread: number }>("/api/notifications/read", { method: "POST", json: { all: true } });
    setData((d) => (d ? { unread: r.unread, items: d.items.map((n) => ({ ...n, read: true })) } : d));
  }

  const unread = data?.unread ?? 0;
  const party = (a: string) => names(a).name ?? shortHex(a, 4);
  return (
    <div className="notifications">
      <button
        type="button"
        className="bell"
        aria-expanded={open}
        aria-controls="notification-list"
        aria-label={unread > 0 ? t("notifications.bellUnread", { count: unread }) : t("notifications.bell")}
        onClick={() => setOpen(!open)}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path
            d="M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zm0 18a2.5 2.5 0 0 0 2.4-2h-4.8A2.5 2.5 0 0 0 12 21z"
            fill="currentColor"
          />
        </svg>
        {unread > 0 && (
          <span className="bell-count" data-count={unread}>
            {unread}
          </span>
        )}
      </button>
      {open && (
        <section id="notification-list" className="notification-list" aria-label={t("notifications.title")}>
          <header>
            <h2>{t("notifications.title")}</h2>
            {unread > 0 && (
              <button type="button" className="secondary" onClick={() => void markAll()}>
                {t("notifications.markAll")}
              </button>
            )}
          </header>
          {!data?.items.length ? (
            <p className="state empty">{t("notifications.empty")}</p>
          ) : (
            <ul>
              {data.items.map((n) => (
                <li key={n.id} data-notification={n.id} className={n.read ? "read" : "unread"}>
                  {!n.read && <span className="visually-hidden">{t("notifications.unread")}: </span>}
                  {t(`notifications.kind.${n.kind}`, {
                    amount: formatAmount(n.amount),
                    party: party(n.counterparty),
                    date: formatDate(n.due),
                  })}
                  <time className="muted" dateTime={new Date(n.at * 1000).toISOString()}>
                    {formatDateTime(n.at)}
                  </time>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
