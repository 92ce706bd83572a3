/** The application's 12 steps, with the time and actor of each one reached. */
import { formatDateTime, shortHex } from "../format";

export interface StepView {
  index: number;
  step: string;
  label: string;
  done: boolean;
}
export interface TimelineEntryView {
  step: string;
  label: string;
  at: number;
  actor: string;
  detail?: string;
  txHash?: string;
}

export function Timeline({ steps, timeline }: { steps: StepView[]; timeline: TimelineEntryView[] }) {
  const byStep = new Map(timeline.map((t) => [t.step, t]));
  const branches = timeline.filter((t) => !steps.some((s) => s.step === t.step));
  return (
    <div className="timeline-wrap">
      <ol className="timeline" aria-label="Application progress">
        {steps.map((s) => {
          const entry = byStep.get(s.step);
          return (
            <li key={s.step} className={s.done ? "done" : "todo"} data-step={s.step}>
              <span className="step-no" aria-hidden="true">
                {s.index}
              </span>
              <span className="step-label">{s.label}</span>
              {entry && (
                <span className="step-meta">
                  {formatDateTime(entry.at)} · {entry.actor === "service" ? "service" : shortHex(entry.actor, 4)}
                  {entry.detail ? ` · ${entry.detail}` : ""}
                  {entry.txHash ? ` · tx ${shortHex(entry.txHash, 4)}` : ""}
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
              <strong>{b.label}</strong> {formatDateTime(b.at)} · {b.actor === "service" ? "service" : shortHex(b.actor, 4)}
              {b.detail ? ` — ${b.detail}` : ""}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
