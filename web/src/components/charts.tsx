/** Inline SVG charts: enough for a trend, no charting library. */
import { currentLanguage, useT } from "../i18n";
import { INTL_LOCALE } from "../i18n/format";

export interface Point {
  label: string;
  value: number | null;
}

/** "2026-11" -> "Nov 2026" / "2026年11月" in the page's language. */
function monthLabel(month: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return month;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15)).toLocaleDateString(INTL_LOCALE[currentLanguage()], {
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}

/**
 * A monthly line. With `partialLast`, the last point is the current month, still running: it is drawn
 * apart (a hollow dot, "so far"), never as the line's end, so a month just begun does not read as a fall.
 */
export function LineChart({
  title,
  points: all,
  format,
  partialLast = false,
}: {
  title: string;
  points: Point[];
  format: (v: number) => string;
  partialLast?: boolean;
}) {
  const tn = useT("nav");
  const t = useT("common");
  const w = 320;
  const h = 120;
  const pad = 24;
  const current = partialLast ? all[all.length - 1] : undefined;
  const points = partialLast ? all.slice(0, -1) : all;
  const values = [...points, ...(current ? [current] : [])].map((p) => p.value).filter((v): v is number => v !== null);
  if (values.length === 0) {
    return (
      <figure className="chart">
        <figcaption>{title}</figcaption>
        <p className="state empty">{t("chart.noData")}</p>
      </figure>
    );
  }
  const max = Math.max(...values, 0);
  const min = Math.min(...values, 0);
  const span = max - min || 1;
  const x = (i: number) => pad + (i * (w - 2 * pad)) / Math.max(all.length - 1, 1);
  const y = (v: number) => h - pad - ((v - min) * (h - 2 * pad)) / span;
  let d = "";
  points.forEach((p, i) => {
    if (p.value === null) return;
    d += `${d === "" ? "M" : "L"}${x(i).toFixed(1)},${y(p.value).toFixed(1)} `;
  });
  const last = [...points].reverse().find((p) => p.value !== null);
  return (
    <figure className="chart">
      <figcaption>
        {title}{" "}
        <span>
          {last ? `${monthLabel(last.label)}: ` : ""}
          <strong>{last && last.value !== null ? format(last.value) : "—"}</strong>
          {current && current.value !== null ? (
            <span className="partial-note"> · {tn("chart.soFar", { month: monthLabel(current.label), value: format(current.value) })}</span>
          ) : null}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={t("chart.byMonth", { title })}>
        <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} className="axis" />
        {values.length > 1 && (
          <path
            d={`${d} L${x(points.map((p) => p.value !== null).lastIndexOf(true)).toFixed(1)},${(h - pad).toFixed(1)} L${x(points.findIndex((p) => p.value !== null)).toFixed(1)},${(h - pad).toFixed(1)} Z`}
            className="area"
          />
        )}
        <path d={d} className="line" />
        <text x={pad} y={y(max) - 4} className="tick">
          {format(max)}
        </text>
        {points.map((p, i) =>
          p.value === null ? null : (
            <circle key={p.label} cx={x(i)} cy={y(p.value)} r={2.5} className="dot">
              <title>{`${monthLabel(p.label)}: ${format(p.value)}`}</title>
            </circle>
          ),
        )}
        {current && current.value !== null ? (
          <circle cx={x(all.length - 1)} cy={y(current.value)} r={3} className="dot partial" data-partial="true">
            <title>{tn("chart.partialTitle", { month: monthLabel(current.label), value: format(current.value) })}</title>
          </circle>
        ) : null}
        <text x={pad} y={h - 6} className="tick">
          {all[0] ? monthLabel(all[0].label) : ""}
        </text>
        <text x={w - pad} y={h - 6} className="tick" textAnchor="end">
          {all.length ? monthLabel(all[all.length - 1].label) + (current ? ` ${tn("chart.soFarTick")}` : "") : ""}
        </text>
      </svg>
    </figure>
  );
}

export interface Bar {
  label: string;
  value: number;
  /** The value as people read it (an amount with its currency). */
  display: string;
  /** Shown under the label, e.g. "2 loans". */
  note?: string;
}

/** Horizontal bars, one per row, longest first as given: shares of a total (exposure, maturities). */
export function BarChart({ title, bars, empty = "Nothing to show." }: { title: string; bars: Bar[]; empty?: string }) {
  const max = Math.max(...bars.map((b) => b.value), 0);
  return (
    <figure className="chart bars">
      <figcaption>{title}</figcaption>
      {bars.length === 0 || max === 0 ? (
        <p className="state empty">{empty}</p>
      ) : (
        <ul>
          {bars.map((b) => (
            <li key={b.label}>
              <span className="bar-label">
                {b.label}
                {b.note ? <span className="muted"> · {b.note}</span> : null}
              </span>
              <svg viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true" className="bar">
                <rect x="0" y="0" width={Math.max((b.value / max) * 100, 0.5)} height="6" />
              </svg>
              <span className="num">{b.display}</span>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
