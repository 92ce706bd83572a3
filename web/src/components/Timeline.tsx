/**
 * The application's 12 steps: those reached in the order they happened (as the service lists them),
 * with the time and actor of each, then those still ahead. An ended application has no next step: the
 * steps it never reached are shown as such.
 */
import { usePartyName } from "../hooks/session";
import { useT } from "../i18n";
import { formatAmount, formatDateTime, formatRate } from "../format";

/** The service writes the offer's terms in minor units and bps ("25000000 at 600 bps for 90 days"): shown as money and a rate. */
function readableDetail(detail: string): string {
  const offer = /^(\d+) at (\d+) bps for (\d+) days$/.exec(detail);
  if (offer) return `${formatAmount(offer[1])} at ${formatRate(offer[2])} a year for ${offer[3]} days`;
  return detail;
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
  const name = usePartyName();
  const t = useT("apply");
  const who = (actor: string) => (actor === "service" ? "the service" : name(actor));
  const stateOf = (s: StepView) => s.state ?? (s.done ? "done" : s.step === steps.find((x) => !x.done)?.step ? "next" : "todo");
  const current = steps.find((s) => stateOf(s) === "next")?.step;
  const byStep = new Map(timeline.map((t) => [t.step, t]));
  const branches = timeline.filter((t) => !steps.some((s) => s.step === t.step));
  return (
    <div className="timeline-wrap">
      <ol className="timeline" aria-label="Application progress">
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
                {s.label}
                {stateOf(s) === "not_reached" ? <span className="muted">{t("timeline.notReached")}</span> : null}
              </span>
              {entry && (
                <span className="step-meta">
                  {formatDateTime(entry.at)}
                  {entry.blockTime !== undefined && entry.blockTime !== entry.at
                    ? t("timeline.blockTime", { time: formatDateTime(entry.blockTime) })
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
        <ul className="branches" aria-label="Reviews and other events">
          {branches.map((b, i) => (
            <li key={`${b.step}-${i}`}>
              <strong>{b.label}</strong> {formatDateTime(b.at)} · {who(b.actor)}
              {b.detail ? ` — ${b.detail}` : ""}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
