/** The metrics table both rooms show, and the shape of a metric's definition as the API serves it. */
import { formatMetric } from "../format";
import { useT } from "../i18n";

export interface MetricDef {
  key: string;
  name: string;
  unit: string;
  windows: string[];
  definition: string;
  group: string;
}

const windowLabel = (w: string) => (w === "all" ? "All time" : `Last ${w.replace("d", " days")}`);

/** Every metric with its windows, grouped as the definitions group them, each with its one-line definition. */
export function MetricsTable({
  defs,
  values,
  hidden,
}: {
  defs: MetricDef[];
  values: Record<string, Record<string, unknown>>;
  hidden?: string[];
}) {
  const tn = useT("nav");
  const windows = ["30d", "90d", "180d", "365d", "all"].filter((w) => defs.some((d) => d.windows.includes(w)));
  const groups = [...new Set(defs.map((d) => d.group))];
  return (
    <div className="table-wrap" tabIndex={0} role="group" aria-label={tn("a11y.metricsByWindow")}>
      <table className="metrics">
        <thead>
          <tr>
            <th scope="col">Metric and definition</th>
            {windows.map((w) => (
              <th key={w} scope="col" className="num">
                {windowLabel(w)}
              </th>
            ))}
          </tr>
        </thead>
        {groups.map((g) => (
          <tbody key={g}>
            <tr className="group">
              <th scope="rowgroup" colSpan={windows.length + 1}>
                {g}
              </th>
            </tr>
            {defs
              .filter((d) => d.group === g)
              .map((d) => (
                <tr key={d.key} data-metric={d.key}>
                  <th scope="row">
                    <span className="metric-name">{d.name}</span>
                    <span className="definition">{d.definition}</span>
                  </th>
                  {windows.map((w) => (
                    <td key={w} className="num" data-label={windowLabel(w)}>
                      {hidden?.includes(d.key) ? (
                        <span className="muted">hidden</span>
                      ) : d.windows.includes(w) ? (
                        formatMetric(values[d.key]?.[w], d.unit)
                      ) : (
                        <span className="na">
                          <span className="sr-only">not computed for this window</span>
                        </span>
                      )}
                    </td>
                  ))}
                </tr>
              ))}
          </tbody>
        ))}
      </table>
    </div>
  );
}
