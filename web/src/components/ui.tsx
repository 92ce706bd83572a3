/** Small building blocks shared by the rooms: states (loading, empty, error), tables, badges. */
import { useCallback, useEffect, useState, type KeyboardEvent, type ReactNode } from "react";
import { ApiRequestError, isUnreachable } from "../api";
import { errorText } from "./ServiceText";
import { currentLanguage, translateKnown, useT } from "../i18n";

export function Loading({ what }: { what: string }) {
  const t = useT("common");
  return (
    <p className="state loading" role="status">
      {t("loading", { what })}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/** The reloads of the loads that found the service unreachable: Retry (or coming back online) runs them. */
const unreachableReloads = new Set<() => void>();
function retryUnreachable(): void {
  for (const reload of [...unreachableReloads]) reload();
}
if (typeof window !== "undefined") window.addEventListener("online", retryUnreachable);

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT("common");
  const tn = useT("nav");
  if (!error) return null;
  // viem errors carry a one-line shortMessage beside their multi-line details.
  const message = (error as { shortMessage?: string }).shortMessage ?? (error instanceof Error ? error.message : String(error));
  // The service answers in English: in another language, the kind of error (from its code) leads and the
  // service's own words follow, marked as English.
  const code = (error as { code?: unknown }).code;
  const kind =
    typeof code === "string" && (error as { status?: unknown }).status !== undefined
      ? translateKnown("common", `errors.${code}`, t("errors.other"))
      : error instanceof TypeError && /fetch/i.test(error.message)
        ? t("errors.network")
        : undefined;
  const retry = isUnreachable(error) ? (
    <>
      {" "}
      <button type="button" className="secondary retry" onClick={onRetry ?? retryUnreachable}>
        {tn("retry")}
      </button>
    </>
  ) : null;
  // The service's message in the reader's language, when it sent its code and this page has the text.
  const translated = error instanceof ApiRequestError && error.text ? errorText(error) : undefined;
  if (translated !== undefined && translated !== message) {
    return (
      <p className="state error" role="alert">
        {translated}
        {retry}
      </p>
    );
  }
  if (currentLanguage() === "en" || !kind) {
    return (
      <p className="state error" role="alert">
        {message}
        {retry}
      </p>
    );
  }
  return (
    <p className="state error" role="alert">
      {kind} <span lang="en">{message}</span>
      {retry}
    </p>
  );
}

/**
 * A receivable's status word, the same for every party: a confirmed receivable pledged to a loan is
 * "Pledged" (the chain keeps it Confirmed, with the loan it secures).
 */
export function receivableStatusWord(status: string, pledged: boolean): string {
  return status === "Confirmed" && pledged ? "Pledged" : status;
}

/** A status as a coloured pill: green done, amber waiting on someone, red stopped. */
export function Badge({ status }: { status: string }) {
  useT("common");
  const key = status.toLowerCase().replace(/[^a-z_]/g, "");
  const text = translateKnown(
    "common",
    `status.${key}`,
    status.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()),
  );
  return <span className={`badge badge-${key}`}>{text}</span>;
}

export function Card({
  title,
  children,
  actions,
  data,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
  data?: Record<string, string | undefined>;
}) {
  const attrs = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`data-${k}`, v]));
  return (
    <section className="card" aria-label={title} {...attrs}>
      <header className="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

export interface Column<T> {
  key: string;
  label: string;
  render: (row: T) => ReactNode;
  numeric?: boolean;
}

export function Table<T>({
  rows,
  columns,
  empty,
  rowKey,
  caption,
}: {
  rows: T[];
  columns: Column<T>[];
  empty: string;
  rowKey: (r: T) => string;
  caption?: string;
}) {
  if (rows.length === 0) return <Empty>{empty}</Empty>;
  return (
    // Focusable, so a keyboard can scroll a table wider than a phone's screen.
    <div className="table-wrap" tabIndex={0} {...(caption ? { role: "group", "aria-label": caption } : {})}>
      <table>
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.numeric ? "num" : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={rowKey(r)}>
              {columns.map((c) => (
                <td key={c.key} className={c.numeric ? "num" : undefined}>
                  {c.render(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Loads data with loading and error states; `reload` re-fetches. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const unreachable = isUnreachable(state.error);
  useEffect(() => {
    if (!unreachable) return;
    unreachableReloads.add(reload);
    return () => void unreachableReloads.delete(reload);
  }, [unreachable, reload]);
  return { ...state, reload };
}

/**
 * A row of tabs with the keyboard behaviour of the WAI-ARIA tabs pattern: Tab reaches the selected
 * tab, arrow keys, Home and End move between tabs and select them.
 */
export function Tabs<T extends string>({
  label,
  tabs,
  selected,
  onSelect,
}: {
  label: string;
  tabs: readonly (readonly [T, string])[];
  selected: T;
  onSelect: (id: T) => void;
}) {
  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    // Move from the tab that has the focus, not from `selected`: a key pressed right after a click may
    // arrive before the click's new route has been rendered, and would then move from the old tab.
    const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
    const focused = buttons.indexOf(e.target as HTMLButtonElement);
    const i = focused >= 0 ? focused : tabs.findIndex(([id]) => id === selected);
    const next =
      e.key === "ArrowRight"
        ? (i + 1) % tabs.length
        : e.key === "ArrowLeft"
          ? (i - 1 + tabs.length) % tabs.length
          : e.key === "Home"
            ? 0
            : e.key === "End"
              ? tabs.length - 1
              : -1;
    if (next < 0) return;
    e.preventDefault();
    onSelect(tabs[next][0]);
    buttons[next]?.focus();
  }
  return (
    <div className="tabs" role="tablist" aria-label={label} onKeyDown={onKeyDown}>
      {tabs.map(([id, text]) => (
        <button
          key={id}
          role="tab"
          type="button"
          aria-selected={selected === id}
          tabIndex={selected === id ? 0 : -1}
          className={selected === id ? "tab active" : "tab"}
          onClick={() => onSelect(id)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}
