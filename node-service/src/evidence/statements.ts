/**
 * What an evidence bundle states, in words, derived only from its structured facts (chain events,
 * signatures, document anchors) and never from free text. The bundle builder writes its `summary`
 * with this function; the verifier recomputes it from the facts it has checked, prints those
 * statements as confirmed, and refuses a bundle whose summary says anything else. A bundle whose
 * subject (the agreement, document, receivable or order it is about) is not among its facts proves
 * nothing and gets a `problem`. No Node.js imports: the court page runs this too.
 */
import type { BundleEvent, EvidenceBundle } from "./bundle-format";
import { moneyWithRaw } from "../domain/money";

export type BundleFacts = Omit<EvidenceBundle, "summary" | "generatedAt">;

export interface Statements {
  /** Why the bundle does not establish its own subject, or null when it does. */
  problem: string | null;
  /** One sentence per fact, in the order a reader needs them. */
  lines: string[];
}

const lower = (a: unknown) => String(a).toLowerCase();
const iso = (seconds: unknown) => new Date(Number(seconds) * 1000).toISOString();
const at = (e: BundleEvent) => `block ${e.blockNumber} (hash ${e.blockHash}) at ${e.blockTimeIso}, transaction ${e.txHash}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "LoanDisbursed" -> "loan disbursed". */
function words(event: string): string {
  return event.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

function chainOrder(a: BundleEvent, b: BundleEvent): number {
  return a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
}

/** The sentences a bundle's facts support, and whether they establish its subject. */
export function statementsOf(bundle: BundleFacts): Statements {
  const events = [...bundle.events].sort(chainOrder);
  const of = (contract: string, event: string, key: string, id: string) =>
    events.filter((e) => e.contract === contract && e.event === event && String(e.args[key]) === id);
  const fail = (problem: string): Statements => ({ problem, lines: [] });
  // A party by its registered name where the bundle gives one (the verifier checks it against the registry), with the address.
  const party = (address: unknown) => {
    const p = bundle.participants.find((x) => lower(x.address) === lower(address));
    return p?.name !== undefined ? `“${p.name}” (${lower(address)})` : lower(address);
  };
  const money = (minor: unknown) => moneyWithRaw(String(minor));

  function anchorsOf(sha256: string): string[] {
    const doc = bundle.documents.find((d) => lower(d.sha256) === lower(sha256));
    if (!doc) return [];
    return doc.anchors.flatMap((a) => {
      const ev = events.find((e) => e.id === a.event);
      if (!ev) return [];
      if (a.via === "notary") return [`anchored alone on the EvidenceNotary at ${ev.address} by ${party(ev.args.anchorer)} in ${at(ev)}`];
      if (a.via === "batch")
        return [
          `in a Merkle batch of ${String(ev.args.count)} documents whose root ${a.root} was anchored on the EvidenceNotary by ${party(ev.args.anchorer)} in ${at(ev)}`,
        ];
      return [`named as ${a.field} in ${ev.contract}.${ev.event} in ${at(ev)}`];
    });
  }

  function orderLines(orderId: string): string[] {
    const created = of("TradeOrders", "OrderCreated", "orderId", orderId)[0];
    if (!created) return [];
    const a = created.args;
    const later = events.filter((e) => e !== created && e.contract === "TradeOrders" && String(e.args.orderId) === orderId);
    return [
      `Order ${orderId}: buyer ${party(a.buyer)} ordered goods worth ${money(a.amount)} from supplier ${party(a.supplier)}, delivery due ${iso(a.deliveryDue)}, ` +
        `purchase-order document sha256 ${lower(a.documentHash)}; created in ${at(created)}.`,
      ...(later.length ? [`Then, for order ${orderId}: ${later.map((e) => `${words(e.event)} at ${e.blockTimeIso}`).join("; ")}.`] : []),
    ];
  }

  const lines: string[] = [];
  if (bundle.kind === "agreement") {
    const ag = bundle.agreement;
    if (!ag) return fail(`the bundle is about agreement ${bundle.id} but carries no agreement record`);
    if (ag.loanId !== bundle.id)
      return fail(`the bundle is about agreement ${bundle.id} but its agreement record is for loan ${ag.loanId}`);
    const rec = of("LoanAgreements", "AgreementRecorded", "loanId", bundle.id)[0];
    if (!rec)
      return fail(`no LoanAgreements.AgreementRecorded event of loan ${bundle.id} is in the bundle: nothing shows this agreement exists`);
    if (rec.id !== ag.recordedIn)
      return fail(`the agreement record points to event ${ag.recordedIn}, but loan ${bundle.id} was recorded in event ${rec.id}`);
    const t = rec.args.terms as Record<string, unknown>;
    const collateral = (t.collateral as unknown[]).map(String);
    const signed = (["borrower", "lender"] as const).filter((role) =>
      bundle.signatures.some((s) => s.role === role && s.recordedIn === rec.id && lower(s.signer) === lower(t[role])),
    );
    lines.push(
      `Loan agreement ${bundle.id} between borrower ${party(t.borrower)} and lender ${party(t.lender)}: principal ${money(t.principal)}` +
        `${t.currency ? ` of the settlement token at ${lower(t.currency)}` : ""} at ${String(t.rateBps)} basis points a year, from ${iso(t.start)} to ${iso(t.maturity)}, ` +
        `${collateral.length ? `collateral ${collateral.length === 1 ? "receivable" : "receivables"} ${collateral.join(", ")}` : "no collateral"}.`,
      `Signed with EIP-712 (digest ${lower(rec.args.digest)}) by ${signed.length ? signed.map((r) => `the ${r}`).join(" and ") : "neither party in this bundle"}; ` +
        `the LoanAgreements contract at ${rec.address} on chain ${bundle.chain.chainId} checked both signatures and recorded the agreement in ${at(rec)}.`,
    );
    const docAnchors = anchorsOf(String(t.documentHash)).filter((s) => !s.startsWith("named as"));
    lines.push(
      `The agreement document has sha256 ${lower(t.documentHash)}${docAnchors.length ? `; it is also ${docAnchors.join("; and ")}` : ""}.`,
    );
    const history = events.filter((e) => e !== rec && e.contract === "LoanAgreements" && String(e.args.loanId) === bundle.id);
    lines.push(
      history.length
        ? `Afterwards, for loan ${bundle.id}: ${history.map((e) => `${words(e.event)}${e.args.amount !== undefined ? ` ${money(e.args.amount)}` : ""} at ${e.blockTimeIso}`).join("; ")}.`
        : `The bundle shows nothing that happened to loan ${bundle.id} after it was recorded.`,
    );
  } else if (bundle.kind === "document") {
    const sha = lower(bundle.id);
    if (!/^0x[0-9a-f]{64}$/.test(sha)) return fail(`the bundle is about "${bundle.id}", which is not a sha256`);
    const found = anchorsOf(sha);
    if (!found.length) return fail(`the bundle carries no anchor on chain for the document ${sha}: nothing shows it was ever anchored`);
    lines.push(
      `The document with sha256 ${sha} is ${found.join("; it is also ")}.`,
      "Anyone can compute a file's sha256 (e.g. with `sha256sum`) and compare it with this hash.",
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
        `no Receivables.ReceivableIssued event of receivable ${bundle.id} (or of the receivable it was split from) is in the bundle`,
      );
    const a = issued.args;
    if (child) {
      lines.push(
        `Receivable ${bundle.id} is a part worth ${money(child.args.faceValue)}, held by ${party(child.args.holder)}, split from receivable ${String(child.args.parentId)} in ${at(child)}.`,
      );
    }
    lines.push(
      `Receivable ${rootId}: ${money(a.faceValue)} owed by debtor ${party(a.debtor)}, issued by supplier ${party(a.supplier)} against order ${String(a.orderId)}, ` +
        `maturity ${iso(a.maturity)}, invoice document sha256 ${lower(a.invoiceHash)}; issued in ${at(issued)}.`,
    );
    const ack = of("Receivables", "ReceivableAcknowledged", "receivableId", rootId)[0];
    const signedAck = ack && bundle.signatures.some((s) => s.role === "debtor" && s.recordedIn === ack.id);
    lines.push(
      ack
        ? `The debtor acknowledged it in ${at(ack)}${signedAck ? " with an EIP-712 signature carried in this bundle" : " by sending the transaction itself"}.`
        : "The bundle shows no acknowledgment by the debtor.",
    );
    const ids = new Set([bundle.id, rootId]);
    const pledges = events.filter((e) => e.event === "ReceivablePledged" && ids.has(String(e.args.receivableId)));
    const payments = events.filter((e) => e.event === "ReceivablePaid" && String(e.args.receivableId) === bundle.id);
    const paid = payments.reduce((sum, e) => sum + BigInt(String(e.args.amount)), 0n);
    lines.push(
      `${plural(pledges.length, "pledge")}${pledges.length ? ` (to loan ${pledges.map((e) => String(e.args.loanId)).join(", ")})` : ""}; ` +
        `${plural(payments.length, "payment")} of receivable ${bundle.id} totalling ${money(paid)}.`,
      ...orderLines(String(a.orderId)),
    );
  } else {
    const order = orderLines(bundle.id);
    if (!order.length)
      return fail(`no TradeOrders.OrderCreated event of order ${bundle.id} is in the bundle: nothing shows this order exists`);
    lines.push(...order);
    const receivables = events.filter((e) => e.event === "ReceivableIssued" && String(e.args.orderId) === bundle.id);
    if (receivables.length) {
      lines.push(
        `Receivables issued against order ${bundle.id}: ${receivables.map((e) => `${String(e.args.receivableId)} (${money(e.args.faceValue)}, ${e.blockTimeIso})`).join(", ")}.`,
      );
    }
  }
  // Parties by name, where the opening of the registry's commitment proves the name.
  for (const p of bundle.participants) {
    if (p.name === undefined) continue;
    const admitted = events.find((e) => e.id === p.admittedIn);
    if (admitted)
      lines.push(
        `Participant ${lower(p.address)} is registered as “${p.name}” (the name and its salt open the display-name commitment of the ParticipantRegistry, which admitted it in block ${admitted.blockNumber}).`,
      );
  }
  return { problem: null, lines };
}
