/** Inline SVG charts: enough for a trend, no charting library. */

export interface Point {
  label: string;
  value: number | null;
}

export function LineChart({ title, points, format }: { title: string; points: Point[]; format: (v: number) => string }) {
  const w = 320;
  const h = 120;
  const pad = 24;
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  if (values.length === 0) {
    return (
      <figure className="chart">
        <figcaption>{title}</figcaption>
        <p className="state empty">No data yet.</p>
      </figure>
    );
  }
  const max = Math.max(...values, 0);
  const min = Math.min(...values, 0);
  const span = max - min || 1;
  const x = (i: number) => pad + (i * (w - 2 * pad)) / Math.max(points.length - 1, 1);
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
        {title} <strong>{last && last.value !== null ? format(last.value) : "—"}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${title} by month`}>
        <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} className="axis" />
        <path d={d} className="line" />
        {points.map((p, i) =>
          p.value === null ? null : (
            <circle key={p.label} cx={x(i)} cy={y(p.value)} r={2.5} className="dot">
              <title>{`${p.label}: ${format(p.value)}`}</title>
            </circle>
          ),
        )}
        <text x={pad} y={h - 6} className="tick">
          {points[0]?.label}
        </text>
        <text x={w - pad} y={h - 6} className="tick" textAnchor="end">
          {points[points.length - 1]?.label}
        </text>
      </svg>
    </figure>
  );
}
