/**
 * A text from the service (a score reason, a risk flag's summary) with every participant's address in it
 * shown as that participant's registered name, labelled verified or claim, the address one click away.
 */
import { Fragment } from "react";
import { ParticipantName } from "./ParticipantName";

const ADDRESS = /0x[0-9a-fA-F]{40}/g;

export function TextWithNames({ text }: { text: string }) {
  const parts: (string | { address: string })[] = [];
  let last = 0;
  for (const m of text.matchAll(ADDRESS)) {
    parts.push(text.slice(last, m.index), { address: m[0] });
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return (
    <>
      {parts.map((p, i) => (
        <Fragment key={i}>{typeof p === "string" ? p : <ParticipantName address={p.address} />}</Fragment>
      ))}
    </>
  );
}
