/**
 * The court's verdicts on screen, shared by the court room of the app and the standalone court
 * verifier: a chain verdict for an agreement, a document or a transaction, and a bundle verdict.
 * Times are shown in UTC and in the reader's local time.
 */
import type { Check, ConfirmedText, PartyName, Verdict as BundleVerdict, VerdictText } from "../../../node-service/src/evidence/verify";
import { eventWords, renderStatement, type StatementText } from "../../../node-service/src/evidence/statements";
import { openingMatches, type NameOpening } from "../../../node-service/src/domain/name-commitment";
import { ROLE } from "../../../node-service/src/chain/eip712";
import type { ChainVerdict } from "./check";
import { formatAmount, formatDateTime, i18n, tNs, Trans, translateKnown, useT } from "../i18n";
import { codedText } from "../components/ServiceText";

/** "2026-11-29 14:40:12 UTC (your time: Nov 29, 2026, 3:40:12 PM GMT+1)". */
export function formatWhen(seconds: number | bigint | undefined): string {
  if (seconds === undefined) return "—";
  const d = new Date(Number(seconds) * 1000);
  const utc = `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  return tNs("court")("when", { utc, local: formatDateTime(seconds) });
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

/** The notes ./check.ts writes while reading the chain: technical English, marked as such. */
function Notes({ notes }: { notes: string[] }) {
  return (
    <>
      {notes.map((n) => (
        <p key={n} className="hint" lang="en">
          {n}
        </p>
      ))}
    </>
  );
}

function Anchors({ v }: { v: ChainVerdict }) {
  const t = useT("court");
  if (!v.anchors.length) return null;
  return (
    <>
      <h4>{v.kind === "agreement" ? t("anchors.titleAgreement") : t("anchors.title")}</h4>
      <ul className="anchors">
        {v.anchors.map((a) => (
          <li key={`${a.txHash}-${a.what}`} data-via={a.via}>
            {a.via === "notary" ? t("anchors.notary") : a.via === "batch" ? t("anchors.batch") : t("anchors.record")}
            {t("anchors.colon")}
            <span lang="en">{a.what}</span>
            {t("anchors.where", { block: a.blockNumber.toString(), when: formatWhen(a.time) })} <code>{short(a.txHash, 8)}</code>
            {a.by ? (
              <>
                {t("anchors.by")} <code>{a.by}</code>
              </>
            ) : null}
            {a.root ? (
              <>
                {t("anchors.root")} <code>{short(a.root, 8)}</code>
                {t("anchors.colon")}
                <span lang="en">{a.proofSource}</span>
              </>
            ) : null}
            {t("anchors.end")}
          </li>
        ))}
      </ul>
    </>
  );
}

export function ChainVerdictView({ v, fileName, nameOf }: { v: ChainVerdict; fileName?: string; nameOf?: NameSource }) {
  const t = useT("court");
  if (v.kind === "no-agreement") {
    return (
      <div className="verdict unknown" data-verdict="no-such-agreement" role="status">
        <h3>{t("verdict.noAgreement", { id: v.query })}</h3>
        <p>{t("verdict.noAgreementText")}</p>
        <Notes notes={v.notes} />
      </div>
    );
  }
  if (!v.anchored) {
    return (
      <div className="verdict bad" data-verdict="not-anchored" role="alert">
        <h3>{t("verdict.notAnchored")}</h3>
        <p>
          {fileName ? t("verdict.file", { name: fileName, sha256: short(v.sha256, 8) }) : `“${short(v.query, 8)}”`}
          {t("verdict.notAnchoredText")}
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
          ? t("verdict.agreement", { id: v.loanId })
          : v.kind === "document"
            ? t("verdict.document")
            : t("verdict.transaction")}
      </h3>
      <p className="verdict-summary">
        <Trans
          t={t}
          i18nKey={
            v.kind === "agreement"
              ? allSigned
                ? "verdict.summaryAgreementSigned"
                : "verdict.summaryAgreementBad"
              : v.kind === "document"
                ? "verdict.summaryDocument"
                : "verdict.summaryTransaction"
          }
          values={{ id: v.loanId, block: v.blockNumber?.toString(), when: formatWhen(v.time) }}
          components={{ b: <strong /> }}
        />
      </p>
      <p className="hint">{t("verdict.blockTime")}</p>
      <dl className="facts">
        {v.sha256 && (
          <>
            <dt>sha256</dt>
            <dd>
              <code>{v.sha256}</code>
            </dd>
          </>
        )}
        <dt>{t("facts.blockHash")}</dt>
        <dd>
          <code>{short(v.blockHash, 10)}</code>
        </dd>
        {v.txHash && (
          <>
            <dt>{t("facts.transaction")}</dt>
            <dd>
              <code>{short(v.txHash, 10)}</code>
            </dd>
          </>
        )}
        {v.principal && (
          <>
            <dt>{t("facts.principal")}</dt>
            <dd>{formatAmount(v.principal)}</dd>
          </>
        )}
      </dl>
      {v.signers && (
        <ul className="signers">
          {v.signers.map((s) => (
            <li key={s.role}>
              {t("signers.signedBy", { role: t(`signers.roles.${s.role}`) })}{" "}
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
              <code>{s.expected}</code>
              {t("anchors.colon")}
              {s.recovered === null
                ? t("signers.contractWallet")
                : s.recovered.toLowerCase() === s.expected.toLowerCase()
                  ? t("signers.recovers")
                  : t("signers.mismatch", { address: s.recovered })}
              {s.registered
                ? t("signers.registered", {
                    roles:
                      ROLE_NAMES.filter(([bit]) => (s.roles & bit) !== 0)
                        .map(([, n]) => t(`signers.roleNames.${n}`))
                        .join(t("signers.listSeparator")) || t("signers.noRole"),
                  })
                : t("signers.notRegistered")}
            </li>
          ))}
        </ul>
      )}
      <Anchors v={v} />
      <Notes notes={v.notes} />
    </div>
  );
}

/** Parameter values that are words (roles, kinds, directions) in the reader's language; the rest as the verifier gave them. */
function verdictParams(params: Record<string, string>): Record<string, string> {
  const word = (group: string, value: string) => translateKnown("court", `verdictText.${group}.${value.replace(/ /g, "_")}`, value);
  const p = { ...params };
  if (p.role !== undefined) p.role = word("roles", p.role);
  if (p.of !== undefined) p.of = word("stamped", p.of);
  if (p.direction !== undefined) p.direction = word("direction", p.direction);
  if (p.kind !== undefined) p.kind = word("kinds", p.kind);
  if (p.chainChecked !== undefined) p.chainChecked = word("chainChecked", p.chainChecked);
  return p;
}

/** A verdict text from its code (court namespace, verdictText.<code>), or undefined when this page has none. */
function verdictText(text: VerdictText | null | undefined): string | undefined {
  return text ? codedText("court", `verdictText.${text.code}`, verdictParams(text.params)) : undefined;
}

/** A check's detail: its coded parts in the reader's language, or undefined when one of them has no text here. */
function detailText(c: Check): string | undefined {
  const parts = (c.detailText ?? []).map(verdictText);
  if (!parts.length || parts.some((x) => x === undefined)) return undefined;
  return parts.join(tNs("court")("verdictText.separator"));
}

/**
 * A statement of the checked facts in the reader's language (court:statements.<code>): amounts for the
 * locale, a party by the name the verifier verified against the registry (with its address), times in
 * UTC and local time, events by name; undefined when this page has no text for one of its codes.
 */
function statementText(statement: StatementText, names: PartyName[]): string | undefined {
  const t = tNs("court");
  const text = (key: string, values: Record<string, string> = {}) => {
    const options = { ...values, ...(values.count !== undefined ? { count: Number(values.count) } : {}) };
    if (!i18n.exists(key, { ns: "court", ...options })) throw new RangeError(key);
    return String(t(key, options));
  };
  try {
    return renderStatement(statement, {
      text: (code, values) => text(`statements.${code}`, values),
      join: (join) => text(`statements.join.${join}`),
      amount: (minor) => formatAmount(minor),
      party: (address) => {
        const named = names.find((n) => n.status === "verified" && n.address.toLowerCase() === address.toLowerCase());
        return named ? text("statements.party", { name: named.name, address: address.toLowerCase() }) : address.toLowerCase();
      },
      time: (iso) => (Number.isNaN(Date.parse(iso)) ? iso : formatWhen(Date.parse(iso) / 1000)),
      event: (name) => translateKnown("court", `statements.events.${name}`, eventWords(name)),
    });
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

/** A confirmed sentence in the reader's language, or undefined when this page has no text for it. */
function confirmedText(c: ConfirmedText | undefined, names: PartyName[]): string | undefined {
  if (!c) return undefined;
  return "statement" in c ? statementText(c.statement, names) : verdictText(c.verdict);
}

/** The text in the reader's language, or the verifier's English marked as English. */
function Said({ text, english }: { text: string | undefined; english: string }) {
  return text === undefined ? <span lang="en">{english}</span> : <>{text}</>;
}

export function BundleVerdictView({ verdict, fileName }: { verdict: BundleVerdict; fileName: string }) {
  const t = useT("court");
  const tn = useT("names");
  const failed = verdict.checks.filter((c) => !c.ok);
  const cls = verdict.outcome === "verified" ? "good" : verdict.outcome === "not-verified" ? "bad" : "unknown";
  return (
    <div className={`verdict ${cls}`} data-verdict={`bundle-${verdict.outcome}`} role={verdict.outcome === "verified" ? "status" : "alert"}>
      <h3>
        {verdict.outcome === "verified"
          ? t("bundle.verified", { count: verdict.checks.length })
          : verdict.outcome === "not-verified"
            ? t("bundle.notVerified", { failed: failed.length, count: verdict.checks.length })
            : t("bundle.unreachable")}
      </h3>
      <p className="hint">{t("bundle.checkedHere", { name: fileName })}</p>
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
          <h4>{t("bundle.proves")}</h4>
          <ul className="confirmed">
            {verdict.confirmed.map((l, i) => (
              <li key={l}>
                <Said text={confirmedText(verdict.confirmedText?.[i], verdict.names)} english={l} />
              </li>
            ))}
          </ul>
        </>
      ) : verdict.outcome === "not-verified" ? (
        <>
          <h4>{t("bundle.doNotRely")}</h4>
          <ul className="failed">
            {failed.map((c) => (
              <li key={c.name}>
                <strong>
                  <Said text={verdictText(c.nameText)} english={c.name} />
                </strong>
                {t("anchors.colon")}
                <Said text={detailText(c)} english={c.detail} />
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>{t("bundle.nothingProved")}</p>
      )}
      <details>
        <summary>{t("bundle.every", { count: verdict.checks.length })}</summary>
        <ul className="checks">
          {verdict.checks.map((c) => (
            <li key={c.name} className={c.ok ? "pass" : "fail"}>
              {c.ok ? t("bundle.pass") : c.unreachable ? t("bundle.notChecked") : t("bundle.fail")}{" "}
              <Said text={verdictText(c.nameText)} english={c.name} />
              {t("verdictText.dash")}
              <Said text={detailText(c)} english={c.detail} />
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
