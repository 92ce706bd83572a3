/**
 * What an evidence bundle states, in words, derived only from its structured facts (chain events,
 * signatures, document anchors) and never from free text. The bundle builder writes its `summary`
 * with this function; the verifier recomputes it from the facts it has checked, prints those
 * statements as confirmed, and refuses a bundle whose summary says anything else. A bundle whose
 * subject (the agreement, document, receivable or order it is about) is not among its facts proves
 * nothing and gets a `problem`. No Node.js imports: the court page runs this too.
 *
 * Each line is written in English (what the summary carries and the verifier compares) and, beside it,
 * as a code with parameters (`texts`) from which a reader in another language (the court page) writes
 * the same sentence: renderStatement fills the code's template, formatting amounts, parties, times and
 * event names for the reader. The codes are derived for display only; the bundle format is unchanged.
 */
import type { BundleEvent, EvidenceBundle } from "./bundle-format";
import { moneyWithRaw } from "../domain/money";

export type BundleFacts = Omit<EvidenceBundle, "summary" | "generatedAt">;

/**
 * Every code a statement's text (or a part of it) can have. The court page writes each from its
 * template court:statements.<code>; test/web/statements-text.test.ts checks that the English templates
 * give the English lines word for word.
 */
export const STATEMENT_TEXT_CODES = [
  "at",
  "event_at",
  "anchor_notary",
  "anchor_batch",
  "anchor_named",
  "order",
  "order_then",
  "order_receivables",
  "order_receivable",
  "agreement",
  "agreement_token",
  "collateral_single",
  "collateral_several",
  "collateral_none",
  "agreement_signed",
  "signer_borrower",
  "signer_lender",
  "signer_none",
  "agreement_document",
  "agreement_document_also",
  "agreement_history",
  "event_amount_at",
  "agreement_no_history",
  "document",
  "document_hint",
  "receivable_part",
  "receivable",
  "ack_signed",
  "ack_sent",
  "ack_none",
  "receivable_pledges",
  "pledge_count",
  "pledge_loans",
  "payment_count",
  "participant",
] as const;
export type StatementTextCode = (typeof STATEMENT_TEXT_CODES)[number];

/**
 * Why a bundle does not establish its subject, as codes: the verifier reports them as its subject
 * check's detail (verify.ts takes them into VERDICT_TEXT_CODES, the court page writes them from
 * court:verdictText.<code>).
 */
export const STATEMENT_PROBLEM_CODES = [
  "problem_no_agreement_record",
  "problem_agreement_other_loan",
  "problem_agreement_not_recorded",
  "problem_agreement_event_mismatch",
  "problem_not_sha256",
  "problem_document_not_anchored",
  "problem_receivable_not_issued",
  "problem_order_not_created",
] as const;
export type StatementProblemCode = (typeof STATEMENT_PROBLEM_CODES)[number];

/** How the texts of a part are joined: directly, or with the separator court:statements.join.<join>. */
export const STATEMENT_JOINS = ["comma", "semicolon", "and", "semicolonAnd", "alsoIs"] as const;
export type StatementJoin = "none" | (typeof STATEMENT_JOINS)[number];

/**
 * A statement (or a part of one) as a code and parameters. A parameter's value is a string; by its
 * name: ending in `Amount` minor units of the settlement currency, in `Party` a participant's address
 * (shown by its registered name where the bundle gives one), in `Time` an ISO 8601 time, `event` a
 * contract event's name, `count` a number the wording follows; any other as it is (ids, hashes,
 * addresses of contracts, numbers). `parts` are texts themselves, each list joined with its separator.
 */
export interface StatementText {
  code: StatementTextCode;
  params: Record<string, string>;
  parts?: Record<string, { join: StatementJoin; texts: StatementText[] }>;
}

export interface Statements {
  /** Why the bundle does not establish its own subject, or null when it does. */
  problem: string | null;
  /** The problem as a code with its parameters (ids, hashes, event ids as they are), or null. */
  problemText: { code: StatementProblemCode; params: Record<string, string> } | null;
  /** One sentence per fact, in the order a reader needs them. */
  lines: string[];
  /** Each line as a code (same order as `lines`). */
  texts: StatementText[];
}

/** How a reader's page writes a statement: its templates and its formatting of values. */
export interface StatementFormat {
  /** The template of `code` with `values` filled in (`values.count`, when there, picks the plural form). */
  text(code: StatementTextCode, values: Record<string, string>): string;
  join(join: Exclude<StatementJoin, "none">): string;
  amount(minor: string): string;
  party(address: string): string;
  time(iso: string): string;
  event(name: string): string;
}

/** A statement in the reader's words: the code's template with each parameter formatted by its name. */
export function renderStatement(s: StatementText, format: StatementFormat): string {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.params)) {
    values[k] = k.endsWith("Amount")
      ? format.amount(v)
      : k.endsWith("Party")
        ? format.party(v)
        : k.endsWith("Time")
          ? format.time(v)
          : k === "event"
            ? format.event(v)
            : v;
  }
  for (const [k, part] of Object.entries(s.parts ?? {})) {
    values[k] = part.texts.map((t) => renderStatement(t, format)).join(part.join === "none" ? "" : format.join(part.join));
  }
  return format.text(s.code, values);
}

const lower = (a: unknown) => String(a).toLowerCase();
const iso = (seconds: unknown) => new Date(Number(seconds) * 1000).toISOString();
const at = (e: BundleEvent) => `block ${e.blockNumber} (hash ${e.blockHash}) at ${e.blockTimeIso}, transaction ${e.txHash}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "LoanDisbursed" -> "loan disbursed". */
export function eventWords(event: string): string {
  return event.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/**
 * The values as the English lines write them: an amount with its raw minor units, a party by its
 * registered name in the bundle with its address, a time as ISO 8601, an event's name in words.
 */
export function englishValues(bundle: BundleFacts): Omit<StatementFormat, "text" | "join"> {
  return {
    amount: (minor) => moneyWithRaw(String(minor)),
    party: (address) => {
      const p = bundle.participants.find((x) => lower(x.address) === lower(address));
      return p?.name !== undefined ? `“${p.name}” (${lower(address)})` : lower(address);
    },
    time: (t) => t,
    event: eventWords,
  };
}

function chainOrder(a: BundleEvent, b: BundleEvent): number {
  return a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
}

/** A sentence (or part) in English with its code. */
interface Line {
  en: string;
  text: StatementText;
}

function said(en: string, code: StatementTextCode, params: Record<string, unknown>, parts?: StatementText["parts"]): Line {
  const text: StatementText = { code, params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) };
  return { en, text: parts ? { ...text, parts } : text };
}

const part = (join: StatementJoin, lines: Line[]) => ({ join, texts: lines.map((l) => l.text) });

/** Where an event happened, as a part: block, its hash, its time and the transaction. */
function atText(e: BundleEvent): StatementText {
  return { code: "at", params: { block: String(e.blockNumber), blockHash: e.blockHash, atTime: e.blockTimeIso, transaction: e.txHash } };
}
const atPart = (e: BundleEvent) => ({ join: "none" as const, texts: [atText(e)] });

/** The sentences a bundle's facts support, and whether they establish its subject. */
export function statementsOf(bundle: BundleFacts): Statements {
  const events = [...bundle.events].sort(chainOrder);
  const of = (contract: string, event: string, key: string, id: string) =>
    events.filter((e) => e.contract === contract && e.event === event && String(e.args[key]) === id);
  const fail = (code: StatementProblemCode, params: Record<string, string>, problem: string): Statements => ({
    problem,
    problemText: { code, params },
    lines: [],
    texts: [],
  });
  // A party by its registered name where the bundle gives one (the verifier checks it against the registry), with the address.
  const english = englishValues(bundle);
  const party = (address: unknown) => english.party(String(address));
  const money = (minor: unknown) => english.amount(String(minor));
  const words = english.event;

  function anchorsOf(sha256: string): Line[] {
    const doc = bundle.documents.find((d) => lower(d.sha256) === lower(sha256));
    if (!doc) return [];
    return doc.anchors.flatMap((a) => {
      const ev = events.find((e) => e.id === a.event);
      if (!ev) return [];
      if (a.via === "notary")
        return [
          said(
            `anchored alone on the EvidenceNotary at ${ev.address} by ${party(ev.args.anchorer)} in ${at(ev)}`,
            "anchor_notary",
            { notary: ev.address, anchorerParty: lower(ev.args.anchorer) },
            { at: atPart(ev) },
          ),
        ];
      if (a.via === "batch")
        return [
          said(
            `in a Merkle batch of ${String(ev.args.count)} documents whose root ${a.root} was anchored on the EvidenceNotary by ${party(ev.args.anchorer)} in ${at(ev)}`,
            "anchor_batch",
            { documents: String(ev.args.count), root: a.root, anchorerParty: lower(ev.args.anchorer) },
            { at: atPart(ev) },
          ),
        ];
      return [
        said(
          `named as ${a.field} in ${ev.contract}.${ev.event} in ${at(ev)}`,
          "anchor_named",
          { field: a.field, contract: ev.contract, eventName: ev.event },
          { at: atPart(ev) },
        ),
      ];
    });
  }

  /** "<event in words> at <time>" for each event, as parts. */
  const eventsAt = (list: BundleEvent[]) =>
    list.map((e) => said(`${words(e.event)} at ${e.blockTimeIso}`, "event_at", { event: e.event, atTime: e.blockTimeIso }));

  function orderLines(orderId: string): Line[] {
    const created = of("TradeOrders", "OrderCreated", "orderId", orderId)[0];
    if (!created) return [];
    const a = created.args;
    const later = events.filter((e) => e !== created && e.contract === "TradeOrders" && String(e.args.orderId) === orderId);
    const then = eventsAt(later);
    return [
      said(
        `Order ${orderId}: buyer ${party(a.buyer)} ordered goods worth ${money(a.amount)} from supplier ${party(a.supplier)}, delivery due ${iso(a.deliveryDue)}, ` +
          `purchase-order document sha256 ${lower(a.documentHash)}; created in ${at(created)}.`,
        "order",
        {
          orderId,
          buyerParty: lower(a.buyer),
          valueAmount: String(a.amount),
          supplierParty: lower(a.supplier),
          dueTime: iso(a.deliveryDue),
          documentHash: lower(a.documentHash),
        },
        { at: atPart(created) },
      ),
      ...(later.length
        ? [
            said(
              `Then, for order ${orderId}: ${then.map((l) => l.en).join("; ")}.`,
              "order_then",
              { orderId },
              { events: part("semicolon", then) },
            ),
          ]
        : []),
    ];
  }

  const lines: Line[] = [];
  if (bundle.kind === "agreement") {
    const ag = bundle.agreement;
    if (!ag)
      return fail(
        "problem_no_agreement_record",
        { id: bundle.id },
        `the bundle is about agreement ${bundle.id} but carries no agreement record`,
      );
    if (ag.loanId !== bundle.id)
      return fail(
        "problem_agreement_other_loan",
        { id: bundle.id, loanId: String(ag.loanId) },
        `the bundle is about agreement ${bundle.id} but its agreement record is for loan ${ag.loanId}`,
      );
    const rec = of("LoanAgreements", "AgreementRecorded", "loanId", bundle.id)[0];
    if (!rec)
      return fail(
        "problem_agreement_not_recorded",
        { id: bundle.id },
        `no LoanAgreements.AgreementRecorded event of loan ${bundle.id} is in the bundle: nothing shows this agreement exists`,
      );
    if (rec.id !== ag.recordedIn)
      return fail(
        "problem_agreement_event_mismatch",
        { id: bundle.id, recordedIn: String(ag.recordedIn), event: rec.id },
        `the agreement record points to event ${ag.recordedIn}, but loan ${bundle.id} was recorded in event ${rec.id}`,
      );
    const t = rec.args.terms as Record<string, unknown>;
    const collateral = (t.collateral as unknown[]).map(String);
    const signed = (["borrower", "lender"] as const).filter((role) =>
      bundle.signatures.some((s) => s.role === role && s.recordedIn === rec.id && lower(s.signer) === lower(t[role])),
    );
    const token = t.currency
      ? [said(` of the settlement token at ${lower(t.currency)}`, "agreement_token", { token: lower(t.currency) })]
      : [];
    const pledged = collateral.length
      ? said(
          `collateral ${collateral.length === 1 ? "receivable" : "receivables"} ${collateral.join(", ")}`,
          collateral.length === 1 ? "collateral_single" : "collateral_several",
          {
            receivables: collateral.join(", "),
          },
        )
      : said("no collateral", "collateral_none", {});
    const signers = signed.length
      ? signed.map((r) => said(`the ${r}`, r === "borrower" ? "signer_borrower" : "signer_lender", {}))
      : [said("neither party in this bundle", "signer_none", {})];
    lines.push(
      said(
        `Loan agreement ${bundle.id} between borrower ${party(t.borrower)} and lender ${party(t.lender)}: principal ${money(t.principal)}` +
          `${token.map((l) => l.en).join("")} at ${String(t.rateBps)} basis points a year, from ${iso(t.start)} to ${iso(t.maturity)}, ` +
          `${pledged.en}.`,
        "agreement",
        {
          loanId: bundle.id,
          borrowerParty: lower(t.borrower),
          lenderParty: lower(t.lender),
          principalAmount: String(t.principal),
          rateBps: String(t.rateBps),
          startTime: iso(t.start),
          maturityTime: iso(t.maturity),
        },
        { token: part("none", token), collateral: part("none", [pledged]) },
      ),
      said(
        `Signed with EIP-712 (digest ${lower(rec.args.digest)}) by ${signers.map((l) => l.en).join(" and ")}; ` +
          `the LoanAgreements contract at ${rec.address} on chain ${bundle.chain.chainId} checked both signatures and recorded the agreement in ${at(rec)}.`,
        "agreement_signed",
        { digest: lower(rec.args.digest), contract: rec.address, chainId: bundle.chain.chainId },
        { signers: part("and", signers), at: atPart(rec) },
      ),
    );
    const docAnchors = anchorsOf(String(t.documentHash)).filter((l) => l.text.code !== "anchor_named");
    const also = docAnchors.length
      ? [
          said(
            `; it is also ${docAnchors.map((l) => l.en).join("; and ")}`,
            "agreement_document_also",
            {},
            {
              anchors: part("semicolonAnd", docAnchors),
            },
          ),
        ]
      : [];
    lines.push(
      said(
        `The agreement document has sha256 ${lower(t.documentHash)}${also.map((l) => l.en).join("")}.`,
        "agreement_document",
        { sha256: lower(t.documentHash) },
        { also: part("none", also) },
      ),
    );
    const history = events.filter((e) => e !== rec && e.contract === "LoanAgreements" && String(e.args.loanId) === bundle.id);
    const happened = history.map((e) =>
      e.args.amount !== undefined
        ? said(`${words(e.event)} ${money(e.args.amount)} at ${e.blockTimeIso}`, "event_amount_at", {
            event: e.event,
            valueAmount: String(e.args.amount),
            atTime: e.blockTimeIso,
          })
        : said(`${words(e.event)} at ${e.blockTimeIso}`, "event_at", { event: e.event, atTime: e.blockTimeIso }),
    );
    lines.push(
      history.length
        ? said(
            `Afterwards, for loan ${bundle.id}: ${happened.map((l) => l.en).join("; ")}.`,
            "agreement_history",
            { loanId: bundle.id },
            {
              events: part("semicolon", happened),
            },
          )
        : said(`The bundle shows nothing that happened to loan ${bundle.id} after it was recorded.`, "agreement_no_history", {
            loanId: bundle.id,
          }),
    );
  } else if (bundle.kind === "document") {
    const sha = lower(bundle.id);
    if (!/^0x[0-9a-f]{64}$/.test(sha))
      return fail("problem_not_sha256", { id: bundle.id }, `the bundle is about "${bundle.id}", which is not a sha256`);
    const found = anchorsOf(sha);
    if (!found.length)
      return fail(
        "problem_document_not_anchored",
        { sha256: sha },
        `the bundle carries no anchor on chain for the document ${sha}: nothing shows it was ever anchored`,
      );
    lines.push(
      said(
        `The document with sha256 ${sha} is ${found.map((l) => l.en).join("; it is also ")}.`,
        "document",
        { sha256: sha },
        {
          anchors: part("alsoIs", found),
        },
      ),
      said("Anyone can compute a file's sha256 (e.g. with `sha256sum`) and compare it with this hash.", "document_hint", {}),
    );
    for (const e of events.filter(
      (x) => x.contract === "TradeOrders" && x.event === "OrderCreated" && lower(x.args.documentHash) === sha,
    )) {
      lines.push(...orderLines(String(e.args.orderId)));
    }
  } else if (bundle.kind === "receivable") {
    let issued = of("Receivables", "ReceivableIssued", "receivableId", bundle.id)[0];
    const child = of("Receivables", "ReceivableChildCreated", "receivableId", bundle.id)[0];
    let rootId = bundle.id;
    if (!issued && child) {
      // A part of a split receivable: follow its parents up to the issued one.
      let parent = String(child.args.parentId);
      for (let depth = 0; depth < 64 && !issued; depth++) {
        issued = of("Receivables", "ReceivableIssued", "receivableId", parent)[0];
        rootId = parent;
        const up = of("Receivables", "ReceivableChildCreated", "receivableId", parent)[0];
        if (!issued && up) parent = String(up.args.parentId);
        else if (!issued) break;
      }
    }
    if (!issued)
      return fail(
        "problem_receivable_not_issued",
        { id: bundle.id },
        `no Receivables.ReceivableIssued event of receivable ${bundle.id} (or of the receivable it was split from) is in the bundle`,
      );
    const a = issued.args;
    if (child) {
      lines.push(
        said(
          `Receivable ${bundle.id} is a part worth ${money(child.args.faceValue)}, held by ${party(child.args.holder)}, split from receivable ${String(child.args.parentId)} in ${at(child)}.`,
          "receivable_part",
          {
            receivableId: bundle.id,
            faceAmount: String(child.args.faceValue),
            holderParty: lower(child.args.holder),
            parentId: String(child.args.parentId),
          },
          { at: atPart(child) },
        ),
      );
    }
    lines.push(
      said(
        `Receivable ${rootId}: ${money(a.faceValue)} owed by debtor ${party(a.debtor)}, issued by supplier ${party(a.supplier)} against order ${String(a.orderId)}, ` +
          `maturity ${iso(a.maturity)}, invoice document sha256 ${lower(a.invoiceHash)}; issued in ${at(issued)}.`,
        "receivable",
        {
          receivableId: rootId,
          faceAmount: String(a.faceValue),
          debtorParty: lower(a.debtor),
          supplierParty: lower(a.supplier),
          orderId: String(a.orderId),
          maturityTime: iso(a.maturity),
          invoiceHash: lower(a.invoiceHash),
        },
        { at: atPart(issued) },
      ),
    );
    const ack = of("Receivables", "ReceivableAcknowledged", "receivableId", rootId)[0];
    const signedAck = ack && bundle.signatures.some((s) => s.role === "debtor" && s.recordedIn === ack.id);
    lines.push(
      ack
        ? said(
            `The debtor acknowledged it in ${at(ack)}${signedAck ? " with an EIP-712 signature carried in this bundle" : " by sending the transaction itself"}.`,
            signedAck ? "ack_signed" : "ack_sent",
            {},
            { at: atPart(ack) },
          )
        : said("The bundle shows no acknowledgment by the debtor.", "ack_none", {}),
    );
    const ids = new Set([bundle.id, rootId]);
    const pledges = events.filter((e) => e.event === "ReceivablePledged" && ids.has(String(e.args.receivableId)));
    const payments = events.filter((e) => e.event === "ReceivablePaid" && String(e.args.receivableId) === bundle.id);
    const paid = payments.reduce((sum, e) => sum + BigInt(String(e.args.amount)), 0n);
    const loans = pledges.map((e) => String(e.args.loanId)).join(", ");
    const pledged = [
      said(plural(pledges.length, "pledge"), "pledge_count", { count: pledges.length }),
      ...(pledges.length ? [said(` (to loan ${loans})`, "pledge_loans", { loanIds: loans })] : []),
    ];
    const paidCount = said(plural(payments.length, "payment"), "payment_count", { count: payments.length });
    lines.push(
      said(
        `${pledged.map((l) => l.en).join("")}; ${paidCount.en} of receivable ${bundle.id} totalling ${money(paid)}.`,
        "receivable_pledges",
        { receivableId: bundle.id, paidAmount: paid },
        { pledges: part("none", pledged), payments: part("none", [paidCount]) },
      ),
      ...orderLines(String(a.orderId)),
    );
  } else {
    const order = orderLines(bundle.id);
    if (!order.length)
      return fail(
        "problem_order_not_created",
        { id: bundle.id },
        `no TradeOrders.OrderCreated event of order ${bundle.id} is in the bundle: nothing shows this order exists`,
      );
    lines.push(...order);
    const receivables = events.filter((e) => e.event === "ReceivableIssued" && String(e.args.orderId) === bundle.id);
    if (receivables.length) {
      const issued = receivables.map((e) =>
        said(`${String(e.args.receivableId)} (${money(e.args.faceValue)}, ${e.blockTimeIso})`, "order_receivable", {
          receivableId: String(e.args.receivableId),
          faceAmount: String(e.args.faceValue),
          atTime: e.blockTimeIso,
        }),
      );
      lines.push(
        said(
          `Receivables issued against order ${bundle.id}: ${issued.map((l) => l.en).join(", ")}.`,
          "order_receivables",
          { orderId: bundle.id },
          {
            receivables: part("comma", issued),
          },
        ),
      );
    }
  }
  // Parties by name, where the opening of the registry's commitment proves the name.
  for (const p of bundle.participants) {
    if (p.name === undefined) continue;
    const admitted = events.find((e) => e.id === p.admittedIn);
    if (admitted)
      lines.push(
        said(
          `Participant ${lower(p.address)} is registered as “${p.name}” (the name and its salt open the display-name commitment of the ParticipantRegistry, which admitted it in block ${admitted.blockNumber}).`,
          "participant",
          { address: lower(p.address), name: p.name, block: admitted.blockNumber },
        ),
      );
  }
  return { problem: null, problemText: null, lines: lines.map((l) => l.en), texts: lines.map((l) => l.text) };
}
