/** The metrics table both rooms show, and the shape of a metric's definition as the API serves it. */
import { formatMetric } from "../format";
import { translateKnown, useT } from "../i18n";

export interface MetricDef {
  key: string;
  name: string;
  unit: string;
  windows: string[];
  definition: string;
  group: string;
}

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
  const t = useT("common");
  const tn = useT("nav");
  const windowLabel = (w: string) => (w === "all" ? t("metrics.allTime") : t("metrics.lastDays", { days: w.replace("d", "") }));
  const windows = ["30d", "90d", "180d", "365d", "all"].filter((w) => defs.some((d) => d.windows.includes(w)));
  const groups = [...new Set(defs.map((d) => d.group))];
  return (
    <div className="table-wrap" tabIndex={0} role="group" aria-label={tn("a11y.metricsByWindow")}>
      <table className="metrics">
        <thead>
          <tr>
            <th scope="col">{t("metrics.heading")}</th>
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
                {translateKnown("metrics", `groups.${groupKey(g)}`, g)}
              </th>
            </tr>
            {defs
              .filter((d) => d.group === g)
              .map((d) => (
                <tr key={d.key} data-metric={d.key}>
                  <th scope="row">
                    <span className="metric-name">{translateKnown("metrics", `${d.key}.name`, d.name)}</span>
                    <DefinitionText metric={d.key} text={d.definition} />
                  </th>
                  {windows.map((w) => (
                    <td key={w} className="num" data-label={windowLabel(w)}>
                      {hidden?.includes(d.key) ? (
                        <span className="muted">{t("metrics.hidden")}</span>
                      ) : d.windows.includes(w) ? (
                        formatMetric(values[d.key]?.[w], d.unit)
                      ) : (
                        <span className="na">
                          <span className="sr-only">{t("metrics.notComputed")}</span>
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

/** A metric group's key in the translations: its words before the first parenthesis, camel-cased ("Volume dynamics" -> "volumeDynamics"). */
export function groupKey(group: string): string {
  const words = group
    .replace(/\(.*$/, "")
    .trim()
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join("");
}

/** A metric's definition: translated when a translation exists, else the service's English words, marked as English. */
function DefinitionText({ metric, text }: { metric: string; text: string }) {
  const translated = translateKnown("metrics", `${metric}.definition`, "");
  return translated ? (
    <span className="definition">{translated}</span>
  ) : (
    <span className="definition" lang="en">
      {text}
    </span>
  );
}
