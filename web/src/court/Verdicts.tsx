/**
 * The court's verdicts on screen, shared by the court room of the app and the standalone court
 * verifier: a chain verdict for an agreement, a document or a transaction, and a bundle verdict.
 * Times are shown in UTC and in the reader's local time.
 */
import type { Verdict as BundleVerdict } from "../../../node-service/src/evidence/verify";
import { openingMatches, type NameOpening } from "../../../node-service/src/domain/name-commitment";
import { ROLE } from "../../../node-service/src/chain/eip712";
import type { ChainVerdict } from "./check";
import { useT } from "../i18n";

/** "2026-11-29 14:40:12 UTC (your time: 29/11/2026, 15:40:12 GMT+1)". */
export function formatWhen(seconds: number | bigint | undefined): string {
  if (seconds === undefined) return "—";
  const d = new Date(Number(seconds) * 1000);
  const utc = `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  const local = d.toLocaleString(undefined, { timeZoneName: "short" });
  return `${utc} (your time: ${local})`;
}

function short(hex: string | undefined, n = 6): string {
  if (!hex) return "—";
  return hex.length > 2 * n + 2 ? `${hex.slice(0, n + 2)}…${hex.slice(-n)}` : hex;
}

const ROLE_NAMES: [number, string][] = [
  [ROLE.SUPPLIER, "supplier"],
  [ROLE.BUYER, "buyer"],
  [ROLE.LENDER, "lender"],
  [ROLE.AUDITOR, "auditor"],
];

/** A name's standing, as a pill: verified (its opening matched the chain) or a claim. */
function NameStatus({ verified }: { verified: boolean }) {
  const t = useT("names");
  return (
    <span
      className={`name-status ${verified ? "name-verified" : "name-claim"}`}
      title={verified ? t("verifiedHint") : t("claimHint")}
      style={{
        fontSize: "0.75rem",
        fontWeight: 600,
        padding: "1px 6px",
        borderRadius: 8,
        ...(verified ? { color: "#1b5e20", background: "#e6f4ea" } : { color: "#7a3e00", background: "#fff4e0" }),
      }}
    >
      {verified ? t("verifiedName") : t("claim")}
    </span>
  );
}

/** Looks up the name (and its salt) someone published for an address: the service's directory in the app, none standalone. */
export type NameSource = (address: string) => NameOpening | null;

function Notes({ notes }: { notes: string[] }) {
  return (
    <>
      {notes.map((n) => (
        <p key={n} className="hint">
          {n}
        </p>
      ))}
    </>
  );
}

function Anchors({ v }: { v: ChainVerdict }) {
  if (!v.anchors.length) return null;
  return (
    <>
      <h4>Where the chain shows {v.kind === "agreement" ? "the agreement document's hash" : "this hash"}</h4>
      <ul className="anchors">
        {v.anchors.map((a) => (
          <li key={`${a.txHash}-${a.what}`} data-via={a.via}>
            {a.via === "notary" ? "Anchored alone" : a.via === "batch" ? "In an anchored batch" : "Recorded in a contract event"}: {a.what},
            block {a.blockNumber.toString()} at {formatWhen(a.time)}, transaction <code>{short(a.txHash, 8)}</code>
            {a.by ? (
              <>
                , by <code>{a.by}</code>
              </>
            ) : null}
            {a.root ? (
              <>
                . Root <code>{short(a.root, 8)}</code>: {a.proofSource}
              </>
            ) : null}
            .
          </li>
        ))}
      </ul>
    </>
  );
}

export function ChainVerdictView({ v, fileName, nameOf }: { v: ChainVerdict; fileName?: string; nameOf?: NameSource }) {
  if (v.kind === "no-agreement") {
    return (
      <div className="verdict unknown" data-verdict="no-such-agreement" role="status">
        <h3>No agreement #{v.query} on this chain</h3>
        <p>
          The LoanAgreements contract has recorded no agreement with this number. This says nothing about tampering: check the number you
          were given.
        </p>
        <Notes notes={v.notes} />
      </div>
    );
  }
  if (!v.anchored) {
    return (
      <div className="verdict bad" data-verdict="not-anchored" role="alert">
        <h3>Not anchored</h3>
        <p>
          {fileName ? `The file “${fileName}” (sha256 ${short(v.sha256, 8)})` : `“${short(v.query, 8)}”`} is not on this chain: not anchored
          on the notary, not in any batch proof offered, and not in the network's contract events. If it is meant to be a signed or recorded
          document, it is not the one that was signed or recorded.
        </p>
        <Notes notes={v.notes} />
      </div>
    );
  }
  const allSigned = v.signers?.every(
    (s) => s.registered && (s.recovered === null || s.recovered.toLowerCase() === s.expected.toLowerCase()),
  );
  const bad = v.kind === "agreement" && !allSigned;
  return (
    <div className={`verdict ${bad ? "bad" : "good"}`} data-verdict={bad ? "signature-mismatch" : "anchored"}>
      <h3>
        {v.kind === "agreement"
          ? `Signed loan agreement #${v.loanId}`
          : v.kind === "document"
            ? "Anchored document"
            : "Transaction on chain"}
      </h3>
      <p className="verdict-summary">
        {v.kind === "agreement" ? `Signed loan agreement #${v.loanId}, anchored` : v.kind === "document" ? "Anchored" : "Recorded"} at block{" "}
        <strong>{v.blockNumber?.toString()}</strong> on <strong>{formatWhen(v.time)}</strong>
        {v.kind === "agreement"
          ? allSigned
            ? ", signed by the borrower and the lender, registered participants."
            : ": the signatures or the signers do not check out (see below)."
          : "."}
      </p>
      <p className="hint">Block time is set by the block producer; it is as trustworthy as the chain's operators.</p>
      <dl className="facts">
        {v.sha256 && (
          <>
            <dt>sha256</dt>
            <dd>
              <code>{v.sha256}</code>
            </dd>
          </>
        )}
        <dt>Block hash</dt>
        <dd>
          <code>{short(v.blockHash, 10)}</code>
        </dd>
        {v.txHash && (
          <>
            <dt>Transaction</dt>
            <dd>
              <code>{short(v.txHash, 10)}</code>
            </dd>
          </>
        )}
        {v.principal && (
          <>
            <dt>Principal</dt>
            <dd>{v.principal} minor units</dd>
          </>
        )}
      </dl>
      {v.signers && (
        <ul className="signers">
          {v.signers.map((s) => (
            <li key={s.role}>
              Signed by the {s.role}{" "}
              {(() => {
                // The name counts as verified only when its opening recomputes, here, to the commitment just read from the chain.
                const opening = nameOf?.(s.expected);
                if (!opening) return null;
                return (
                  <>
                    <strong className="signer-name">{opening.name}</strong>{" "}
                    <NameStatus verified={openingMatches(opening, s.displayNameHash)} />{" "}
                  </>
                );
              })()}
              <code>{s.expected}</code>:{" "}
              {s.recovered === null
                ? "contract wallet (ERC-1271)"
                : s.recovered.toLowerCase() === s.expected.toLowerCase()
                  ? "signature recovers to this address"
                  : `signature recovers to ${s.recovered}: MISMATCH`}
              {s.registered
                ? `, a registered participant (${
                    ROLE_NAMES.filter(([bit]) => (s.roles & bit) !== 0)
                      .map(([, n]) => n)
                      .join(", ") || "no role"
                  })`
                : ", NOT a registered participant"}
            </li>
          ))}
        </ul>
      )}
      <Anchors v={v} />
      <Notes notes={v.notes} />
    </div>
  );
}

export function BundleVerdictView({ verdict, fileName }: { verdict: BundleVerdict; fileName: string }) {
  const tn = useT("names");
  const failed = verdict.checks.filter((c) => !c.ok);
  const cls = verdict.outcome === "verified" ? "good" : verdict.outcome === "not-verified" ? "bad" : "unknown";
  return (
    <div className={`verdict ${cls}`} data-verdict={`bundle-${verdict.outcome}`} role={verdict.outcome === "verified" ? "status" : "alert"}>
      <h3>
        {verdict.outcome === "verified"
          ? `Evidence bundle verified (all ${verdict.checks.length} checks passed)`
          : verdict.outcome === "not-verified"
            ? `Evidence bundle NOT verified (${failed.length} of ${verdict.checks.length} checks failed)`
            : "Could not check the evidence bundle: the blockchain node did not answer"}
      </h3>
      <p className="hint">“{fileName}”, checked in this browser against the chain, as the command-line verifier does.</p>
      {verdict.names.length > 0 && (
        <>
          <h4>{tn("partiesByName")}</h4>
          <ul className="party-names">
            {verdict.names.map((n) => (
              <li key={n.address} data-name-status={n.status}>
                <strong>{n.name}</strong> <NameStatus verified={n.status === "verified"} />{" "}
                <code style={{ overflowWrap: "anywhere" }}>{n.address}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {verdict.outcome === "verified" ? (
        <>
          <h4>What the checks prove (recomputed from the chain records checked, not copied from the bundle)</h4>
          <ul className="confirmed">
            {verdict.confirmed.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
        </>
      ) : verdict.outcome === "not-verified" ? (
        <>
          <h4>Do not rely on this bundle. What failed:</h4>
          <ul className="failed">
            {failed.map((c) => (
              <li key={c.name}>
                <strong>{c.name}</strong>: {c.detail}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>Nothing was proved or disproved. Try again, or use another node.</p>
      )}
      <details>
        <summary>Every check ({verdict.checks.length})</summary>
        <ul className="checks">
          {verdict.checks.map((c) => (
            <li key={c.name} className={c.ok ? "pass" : "fail"}>
              {c.ok ? "PASS" : c.unreachable ? "NOT CHECKED" : "FAIL"} {c.name} — {c.detail}
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
