/**
 * A participant shown by registered name: "verified" only when the name's opening matched the on-chain
 * commitment, otherwise the name is labelled a claim; the address is one click away (and in the title).
 */
import { useState } from "react";
import { shortHex } from "../format";
import { useParticipantName } from "../hooks/participants";
import { useT } from "../i18n";

// Inline styles, so this component brings no stylesheet edits (contrast at least 4.5:1 on white).
const STATUS_STYLE = {
  verified: { color: "#1b5e20", background: "#e6f4ea" },
  claim: { color: "#7a3e00", background: "#fff4e0" },
} as const;
const PILL = { fontSize: "0.75rem", fontWeight: 600, padding: "1px 6px", borderRadius: 8, whiteSpace: "nowrap" } as const;
const LINK = {
  background: "none",
  border: "none",
  padding: 0,
  color: "#0b57d0",
  textDecoration: "underline",
  cursor: "pointer",
  font: "inherit",
  fontSize: "0.8rem",
} as const;

export function ParticipantName({ address, fallback }: { address: string; fallback?: string }) {
  const t = useT("names");
  const { name, verified } = useParticipantName(address);
  const [open, setOpen] = useState(false);
  const shown = name ?? fallback ?? shortHex(address, 4);
  return (
    <span className="participant-name" title={address} data-address={address.toLowerCase()}>
      <span className="participant-name-text">{shown}</span>{" "}
      {name !== null && (
        <span
          className={`name-status ${verified ? "name-verified" : "name-claim"}`}
          title={verified ? t("verifiedHint") : t("claimHint")}
          style={{ ...PILL, ...STATUS_STYLE[verified ? "verified" : "claim"] }}
        >
          {verified ? t("verified") : t("claim")}
        </span>
      )}{" "}
      <button type="button" className="link-button" style={LINK} aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? t("hideAddress") : t("showAddress")}
      </button>
      {open && (
        <code className="participant-address" style={{ overflowWrap: "anywhere" }}>
          {" "}
          {address}
        </code>
      )}
    </span>
  );
}
