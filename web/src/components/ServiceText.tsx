/**
 * Texts the service writes in English (decline explanations, risk-flag summaries, error messages), in
 * the reader's language: the service sends each beside its English as a stable message code with string
 * parameters; here the code picks the text of the "explain" namespace and the parameters are formatted
 * for the locale (amounts in major units with the currency, shares as percentages, metric values in
 * their unit, days as dates, rules, factors, metrics and attributes by name). A code this page does not
 * know falls back to the service's English, marked as English. Addresses in the result are shown as
 * participants' names (TextWithNames).
 */
import { formatMetric } from "../format";
import { formatAmount, formatDate, i18n, tNs, translateKnown, useT } from "../i18n";
import { TextWithNames } from "./TextWithNames";
import type { ApiRequestError } from "../api";
import type { ExplainedReasonView, RiskFlagView } from "../hooks/applications";

type Params = Record<string, string>;
const NS = "explain";

/** Comparison operators as key names. */
const OPS: Record<string, string> = { ">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "==": "eq", "!=": "ne" };

const sentence = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** A metric window ("365d", "all") in words. */
function windowText(window: string): string {
  const t = tNs("explain");
  const days = /^(\d+)d$/.exec(window);
  return window === "all" ? t("windows.all") : days ? t("windows.days", { days: days[1] }) : window;
}

/** A raw metric value in its unit, or "no data". */
function metricText(value: string | null | undefined, unit: string): string {
  return value === null || value === undefined || value === "" ? tNs("explain")("noData") : formatMetric(value, unit);
}

/** The parameters formatted for the current language (see the conventions in the service's explain.ts and screen.ts). */
export function localParams(params: Params): Params {
  const t = tNs("explain");
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) {
    if (k.endsWith("Amount")) out[k] = formatAmount(v, params.currency || "CNY");
    else if (k.endsWith("Ratio")) out[k] = formatMetric(v, "ratio");
    else if (k.endsWith("At")) out[k] = formatDate(v);
    else out[k] = v;
  }
  if (params.unit !== undefined) {
    out.value = metricText(params.value, params.unit);
    out.threshold = metricText(params.threshold, params.unit);
  }
  if (params.metric !== undefined) out.metricName = translateKnown("metrics", `${params.metric}.name`, params.metric);
  if (params.window !== undefined) out.windowText = windowText(params.window);
  if (params.rule !== undefined) out.ruleText = translateKnown(NS, `rules.${params.rule}`, sentence(params.ruleMessage ?? params.rule));
  if (params.op !== undefined && OPS[params.op]) {
    out.failing = t(`ops.failing.${OPS[params.op]}`);
    out.passing = t(`ops.passing.${OPS[params.op]}`);
  }
  if (params.factor !== undefined && params.label !== undefined)
    out.factorText = translateKnown(NS, `factors.${params.factor}`, params.label);
  if (params.flag !== undefined) out.flagName = translateKnown("lender", `flags.codes.${params.flag}`, params.flag.replace(/_/g, " "));
  if (params.status !== undefined) out.statusText = translateKnown("common", `status.${params.status}`, params.status.replace(/_/g, " "));
  if (params.times !== undefined) out.timesText = Number(params.times) > 1 ? t("times", { count: Number(params.times) }) : "";
  if (params.kinds !== undefined) {
    out.kinds = params.kinds
      .split(",")
      .map((pair) =>
        pair
          .split("/")
          .map((kind) => translateKnown(NS, `attributes.${kind}`, kind))
          .join("/"),
      )
      .join(t("items.kindSeparator"));
  }
  return out;
}

/** The text of `key` in the explain namespace with `params`, or undefined when there is none. */
function known(key: string, params: Params): string | undefined {
  return codedText(NS, key, params);
}

/**
 * The text of a coded message: `key` of namespace `ns` with `params` formatted for the language (as
 * above), or undefined when this page has no text for it (the caller then shows the English, marked
 * lang="en"). The explanations and errors here, the court's verdict (court namespace) the same way.
 */
export function codedText(ns: string, key: string, params: Params): string | undefined {
  return i18n.exists(key, { ns }) ? String(i18n.t(key, { ns, ...localParams(params) })) : undefined;
}

/** A text with names for addresses; the service's English, marked as such, when the code is unknown. */
function Shown({ text, english }: { text: string | undefined; english: string }) {
  return text === undefined ? (
    <span lang="en">
      <TextWithNames text={english} />
    </span>
  ) : (
    <TextWithNames text={text} />
  );
}

/** The score reason's room to improve, listed after the to-change sentence. */
function roomText(reason: ExplainedReasonView): string {
  const t = tNs("explain");
  const items = (reason.room ?? []).map((r) => {
    const factor = translateKnown(NS, `factors.${r.factor}`, r.label);
    const value = metricText(r.value, r.unit);
    const bound = r.bound === undefined ? "" : metricText(r.bound, r.unit);
    return r.boundKind ? t(`room.${r.boundKind}`, { factor, value, bound, points: r.points }) : t("room.none", { factor, value });
  });
  return items.length ? t("room.lead", { items: items.join(t("room.separator")) }) : "";
}

/** What happened (`part` "text") or what would change it ("toChange"), for one explained reason. */
export function ExplainedText({ reason, part }: { reason: ExplainedReasonView; part: "text" | "toChange" }) {
  useT("explain");
  const code = part === "text" ? reason.textCode : reason.toChangeCode;
  const english = part === "text" ? reason.text : reason.toChange;
  let text = code && reason.params ? known(`${part}.${code}`, reason.params) : undefined;
  if (text !== undefined && part === "toChange" && reason.room?.length) text = `${text} ${roomText(reason)}`;
  return <Shown text={text} english={english} />;
}

/** A risk flag's summary. */
export function FlagSummary({ flag }: { flag: RiskFlagView }) {
  useT("explain");
  const coded = flag.text;
  let text: string | undefined;
  if (coded && coded.textCode !== "other") {
    const t = tNs("explain");
    const items = (coded.items ?? []).map((item) => known(`items.${coded.itemCode}`, item));
    if (items.every((x) => x !== undefined))
      text = known(`flags.${coded.textCode}`, { ...coded.params, items: items.join(t("items.separator")) });
  }
  return <Shown text={text} english={flag.summary} />;
}

/** One of the decision's reasons (the lender's score table), from its code when the service sent one. */
export function DecisionReasonText({ message, coded }: { message: string; coded?: { textCode: string; params: Params } }) {
  useT("explain");
  const text = coded && coded.textCode !== "other" ? known(`reasons.${coded.textCode}`, coded.params) : undefined;
  return <Shown text={text} english={message} />;
}

/** A decision reason's band or rule, for the policy-indicators table: "[70.0%, 85.0%): 8 points", "rule: above 0". */
export function IndicatorThreshold({ message, coded }: { message: string; coded?: { textCode: string; params: Params } }) {
  const t = useT("explain");
  const p = coded?.params;
  let text: string | undefined;
  if (p && (coded.textCode === "factor" || coded.textCode === "factor_missing")) {
    const [min, max] = [p.bandMin, p.bandMax].map((x) => (x === undefined ? undefined : metricText(x, p.unit)));
    const band =
      min !== undefined && max !== undefined
        ? t("indicator.between", { min, max })
        : min !== undefined
          ? t("indicator.atLeast", { min })
          : max !== undefined
            ? t("indicator.below", { max })
            : undefined;
    text =
      coded.textCode === "factor_missing"
        ? t("indicator.missing", { points: p.points })
        : band
          ? t("indicator.band", { band, points: p.points })
          : t("indicator.noBand", { points: p.points });
  } else if (p && coded.textCode === "rule_metric") {
    const local = localParams(p);
    text = t("indicator.rule", { failing: local.failing, threshold: local.threshold });
  } else if (coded?.textCode === "rule_metric_missing") text = t("indicator.ruleMissing");
  return text === undefined ? <span lang="en">{message.replace(/^[^:]*: /, "")}</span> : <>{text}</>;
}

/** An API error's message in the current language when the service gave its code, else its English message. */
export function errorText(err: Pick<ApiRequestError, "message" | "text">): string {
  const text = err.text ? known(`errors.${err.text.textCode}`, err.text.params) : undefined;
  return text ?? err.message;
}
