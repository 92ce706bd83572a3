/** Small building blocks shared by the rooms: states (loading, empty, error), tables, badges. */
import { useCallback, useEffect, useState, type KeyboardEvent, type ReactNode } from "react";
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

export function ErrorBox({ error }: { error: unknown }) {
  const t = useT("common");
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
  if (currentLanguage() === "en" || !kind) {
    return (
      <p className="state error" role="alert">
        {message}
      </p>
    );
  }
  return (
    <p className="state error" role="alert">
      {kind} <span lang="en">{message}</span>
    </p>
  );
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
    <div className="table-wrap">
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
    const i = tabs.findIndex(([id]) => id === selected);
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
    e.currentTarget.querySelectorAll<HTMLButtonElement>('[role="tab"]')[next]?.focus();
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
