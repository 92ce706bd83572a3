/**
 * The application's 12 steps: those reached in the order they happened (as the service lists them),
 * with the time and actor of each, then those still ahead. An ended application has no next step: the
 * steps it never reached are shown as such.
 */
import type { ReactNode } from "react";
import { usePartyName } from "../hooks/session";
import { formatAmount, formatDateTime, formatRate } from "../format";
import { tNs, translateKnown, useT } from "../i18n";

/**
 * The service writes the offer's terms in minor units and bps ("25000000 at 600 bps for 90 days"): shown
 * as money and a rate in the page's language. Any other detail is the service's English, marked as such.
 */
function readableDetail(detail: string): ReactNode {
  const offer = /^(\d+) at (\d+) bps for (\d+) days$/.exec(detail);
  if (offer) return tNs("common")("timeline.offerDetail", { amount: formatAmount(offer[1]), rate: formatRate(offer[2]), days: offer[3] });
  return <span lang="en">{detail}</span>;
}

export interface StepView {
  index: number;
  step: string;
  label: string;
  done: boolean;
  /** "next" only while the application is open; "not_reached" once it ended. Absent from older services. */
  state?: "done" | "next" | "todo" | "not_reached";
}
export interface TimelineEntryView {
  step: string;
  label: string;
  at: number;
  actor: string;
  detail?: string;
  txHash?: string;
  /** A chain step's block time, when the chain's clock ran behind the service's. */
  blockTime?: number;
}

export function Timeline({ steps, timeline }: { steps: StepView[]; timeline: TimelineEntryView[] }) {
  const t = useT("common");
  const ta = useT("apply");
  const name = usePartyName();
  const who = (actor: string) => (actor === "service" ? t("timeline.service") : name(actor));
  const label = (step: string, fallback: string) => translateKnown("common", `steps.${step}`, fallback);
  const stateOf = (s: StepView) => s.state ?? (s.done ? "done" : s.step === steps.find((x) => !x.done)?.step ? "next" : "todo");
  const current = steps.find((s) => stateOf(s) === "next")?.step;
  const byStep = new Map(timeline.map((t) => [t.step, t]));
  const branches = timeline.filter((t) => !steps.some((s) => s.step === t.step));
  return (
    <div className="timeline-wrap">
      <ol className="timeline" aria-label={t("timeline.progress")}>
        {steps.map((s) => {
          const entry = byStep.get(s.step);
          return (
            <li
              key={s.step}
              className={{ done: "done", next: "todo next", todo: "todo", not_reached: "todo not-reached" }[stateOf(s)]}
              data-step={s.step}
              aria-current={s.step === current ? "step" : undefined}
            >
              <span className="step-no" aria-hidden="true">
                {s.done ? "✓" : s.index}
              </span>
              <span className="step-label">
                {label(s.step, s.label)}
                {stateOf(s) === "not_reached" ? <span className="muted">{ta("timeline.notReached")}</span> : null}
              </span>
              {entry && (
                <span className="step-meta">
                  {formatDateTime(entry.at)}
                  {entry.blockTime !== undefined && entry.blockTime !== entry.at
                    ? ta("timeline.blockTime", { time: formatDateTime(entry.blockTime) })
                    : ""}{" "}
                  · {who(entry.actor)}
                  {entry.detail ? <span className="step-detail">{readableDetail(entry.detail)}</span> : null}
                </span>
              )}
            </li>
          );
        })}
      </ol>
      {branches.length > 0 && (
        <ul className="branches" aria-label={t("timeline.branches")}>
          {branches.map((b, i) => (
            <li key={`${b.step}-${i}`}>
              <strong>{label(b.step, b.label)}</strong> {formatDateTime(b.at)} · {who(b.actor)}
              {b.detail ? <> — {readableDetail(b.detail)}</> : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
