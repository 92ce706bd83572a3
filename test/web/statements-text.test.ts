/**
 * The codes of an evidence bundle's statements (node-service/src/evidence/statements.ts) cannot drift
 * from its English sentences: for bundles that reach every branch of statementsOf, each line's code,
 * written with the web's English templates (court:statements.*) and the values as the lines write them,
 * is that line word for word; and written in Chinese, it is Chinese. No chain is needed: statementsOf
 * reads only a bundle's structured facts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import i18next, { type i18n as I18n } from "i18next";
import {
  englishValues,
  eventWords,
  renderStatement,
  statementsOf,
  STATEMENT_PROBLEM_CODES,
  STATEMENT_TEXT_CODES,
  type BundleFacts,
  type StatementFormat,
  type StatementText,
} from "../../node-service/src/evidence/statements";
import type { BundleEvent } from "../../node-service/src/evidence/bundle-format";
import { formatAmountIn } from "../../web/src/i18n/format";

const LOCALES = path.resolve(__dirname, "../../web/src/i18n/locales");
const court = (lang: string) => JSON.parse(readFileSync(path.join(LOCALES, lang, "court.json"), "utf8")) as Record<string, unknown>;

const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const CONTRACT_AT: Record<string, string> = {
  ParticipantRegistry: addr(0xc1),
  TradeOrders: addr(0xc2),
  Receivables: addr(0xc3),
  LoanAgreements: addr(0xc4),
  EvidenceNotary: addr(0xc5),
};

const BORROWER = addr(0xb0);
const LENDER = addr(0x1e);
const BUYER = addr(0xbb);
const ANCHORER = addr(0xaa);
const T0 = 1_790_000_000;

/** Events with ids e1, e2, ... in block order, one a block from block 1. */
function eventsOf(list: [string, string, Record<string, unknown>][]): BundleEvent[] {
  return list.map(([contract, event, args], i) => ({
    id: `e${i + 1}`,
    contract: contract as BundleEvent["contract"],
    address: CONTRACT_AT[contract],
    event,
    args,
    txHash: hash(0x1000 + i),
    blockNumber: i + 1,
    blockHash: hash(0x2000 + i),
    logIndex: 0,
    blockTime: T0 + i * 60,
    blockTimeIso: new Date((T0 + i * 60) * 1000).toISOString(),
  }));
}

function bundle(kind: BundleFacts["kind"], id: string, parts: Partial<BundleFacts>): BundleFacts {
  return {
    format: "scf-evidence-bundle/1",
    kind,
    id,
    chain: { chainId: 31337, genesisHash: hash(1) },
    contracts: CONTRACT_AT as BundleFacts["contracts"],
    events: [],
    signatures: [],
    documents: [],
    participants: [],
    ...parts,
  };
}

const signature = (role: "borrower" | "lender" | "debtor", signer: string, recordedIn: string) =>
  ({ role, signer, recordedIn }) as unknown as BundleFacts["signatures"][number];
const named = (address: string, name: string, admittedIn: string) => ({ address, roles: 1, roleNames: [], admittedIn, name });

const terms = (extra: Record<string, unknown>) => ({
  borrower: BORROWER,
  lender: LENDER,
  principal: "25000000",
  rateBps: 850,
  start: T0,
  maturity: T0 + 90 * 86_400,
  documentHash: hash(0x50),
  ...extra,
});

const order = (orderId: string, documentHash = hash(0x70)) =>
  [
    "TradeOrders",
    "OrderCreated",
    { orderId, buyer: BUYER, supplier: BORROWER, amount: "50000000", deliveryDue: T0 + 30 * 86_400, documentHash },
  ] as [string, string, Record<string, unknown>];

/** Receivable 20 issued on order 12 (the bundles of a receivable and of its part both start from it). */
const issued20: [string, string, Record<string, unknown>] = [
  "Receivables",
  "ReceivableIssued",
  {
    receivableId: "20",
    faceValue: "40000000",
    debtor: BUYER,
    supplier: BORROWER,
    orderId: "12",
    maturity: T0 + 60 * 86_400,
    invoiceHash: hash(0x80),
  },
];

/** Bundles that together reach every statement and every part of one. */
const BUNDLES: Record<string, BundleFacts> = {
  "an agreement, signed by both, anchored three ways, with its history": bundle("agreement", "7", {
    agreement: { loanId: "7", digest: hash(7), borrower: BORROWER, lender: LENDER, documentHash: hash(0x50), recordedIn: "e3" },
    events: eventsOf([
      ["ParticipantRegistry", "ParticipantAdmitted", { account: BORROWER }],
      ["ParticipantRegistry", "ParticipantAdmitted", { account: LENDER }],
      ["LoanAgreements", "AgreementRecorded", { loanId: "7", digest: hash(7), terms: terms({ currency: addr(0xcc), collateral: ["3"] }) }],
      ["EvidenceNotary", "Anchored", { anchorer: BORROWER }],
      ["EvidenceNotary", "BatchAnchored", { anchorer: ANCHORER, count: "3" }],
      ["LoanAgreements", "LoanDisbursed", { loanId: "7", amount: "25000000" }],
      ["LoanAgreements", "LoanRepaid", { loanId: "7", amount: "100000" }],
      ["LoanAgreements", "LoanClosed", { loanId: "7" }],
    ]),
    signatures: [signature("borrower", BORROWER, "e3"), signature("lender", LENDER, "e3")],
    documents: [
      {
        sha256: hash(0x50),
        role: "loan agreement",
        anchors: [
          { via: "record", event: "e3", field: "terms.documentHash" },
          { via: "notary", event: "e4" },
          { via: "batch", event: "e5", root: hash(0x60), proof: [] },
        ],
      },
    ],
    participants: [named(BORROWER, "Precision Parts Co.", "e1"), named(LENDER, "Lingnan Commercial Bank", "e2")],
  }),
  "an agreement signed by the borrower alone, two receivables, no token, no history": bundle("agreement", "8", {
    agreement: { loanId: "8", digest: hash(8), borrower: BORROWER, lender: LENDER, documentHash: hash(0x50), recordedIn: "e1" },
    events: eventsOf([["LoanAgreements", "AgreementRecorded", { loanId: "8", digest: hash(8), terms: terms({ collateral: ["3", "4"] }) }]]),
    signatures: [signature("borrower", BORROWER, "e1")],
  }),
  "an agreement nobody's signature in the bundle backs, without collateral": bundle("agreement", "9", {
    agreement: { loanId: "9", digest: hash(9), borrower: BORROWER, lender: LENDER, documentHash: hash(0x50), recordedIn: "e1" },
    events: eventsOf([["LoanAgreements", "AgreementRecorded", { loanId: "9", digest: hash(9), terms: terms({ collateral: [] }) }]]),
  }),
  "a document anchored alone, in a batch and in its order, the purchase order of an order that moved on": bundle("document", hash(0x70), {
    events: eventsOf([
      ["EvidenceNotary", "Anchored", { anchorer: BUYER }],
      ["EvidenceNotary", "BatchAnchored", { anchorer: BUYER, count: "1" }],
      order("12"),
      ["TradeOrders", "OrderAccepted", { orderId: "12" }],
      ["TradeOrders", "OrderShipped", { orderId: "12" }],
      ["ParticipantRegistry", "ParticipantAdmitted", { account: BUYER }],
    ]),
    documents: [
      {
        sha256: hash(0x70),
        role: "purchase order",
        anchors: [
          { via: "notary", event: "e1" },
          { via: "batch", event: "e2", root: hash(0x71), proof: [] },
          { via: "record", event: "e3", field: "documentHash" },
        ],
      },
    ],
    participants: [named(BUYER, "Delta Machinery Group", "e6")],
  }),
  "a part of a split receivable, acknowledged with a signature, pledged and paid twice": bundle("receivable", "21", {
    events: eventsOf([
      order("12"),
      issued20,
      ["Receivables", "ReceivableAcknowledged", { receivableId: "20" }],
      ["Receivables", "ReceivableChildCreated", { receivableId: "21", parentId: "20", faceValue: "10000000", holder: LENDER }],
      ["Receivables", "ReceivablePledged", { receivableId: "21", loanId: "7" }],
      ["Receivables", "ReceivablePaid", { receivableId: "21", amount: "4000000" }],
      ["Receivables", "ReceivablePaid", { receivableId: "21", amount: "6000000" }],
    ]),
    signatures: [signature("debtor", BUYER, "e3")],
  }),
  "a receivable its debtor acknowledged by transaction, paid once, never pledged": bundle("receivable", "20", {
    events: eventsOf([
      issued20,
      ["Receivables", "ReceivableAcknowledged", { receivableId: "20" }],
      ["Receivables", "ReceivablePaid", { receivableId: "20", amount: "40000000" }],
    ]),
  }),
  "a receivable not acknowledged, pledged twice, never paid": bundle("receivable", "22", {
    events: eventsOf([
      [
        "Receivables",
        "ReceivableIssued",
        {
          receivableId: "22",
          faceValue: "1000",
          debtor: BUYER,
          supplier: BORROWER,
          orderId: "13",
          maturity: T0 + 86_400,
          invoiceHash: hash(0x81),
        },
      ],
      ["Receivables", "ReceivablePledged", { receivableId: "22", loanId: "7" }],
      ["Receivables", "ReceivablePledged", { receivableId: "22", loanId: "9" }],
    ]),
  }),
  "an order and the receivables issued against it": bundle("order", "12", {
    events: eventsOf([
      order("12"),
      // Receivable 20 as issued20, here due at T0.
      ["Receivables", "ReceivableIssued", { ...issued20[2], maturity: T0 }],
      [
        "Receivables",
        "ReceivableIssued",
        {
          receivableId: "23",
          faceValue: "10000000",
          debtor: BUYER,
          supplier: BORROWER,
          orderId: "12",
          maturity: T0,
          invoiceHash: hash(0x82),
        },
      ],
    ]),
  }),
};

/** Bundles whose facts do not establish their subject: together they reach every problem code. */
const agreementRecord = (loanId: string, recordedIn: string) => ({
  loanId,
  digest: hash(9),
  borrower: BORROWER,
  lender: LENDER,
  documentHash: hash(0x50),
  recordedIn,
});
const recorded9 = eventsOf([
  ["ParticipantRegistry", "ParticipantAdmitted", { account: BORROWER }],
  ["LoanAgreements", "AgreementRecorded", { loanId: "9", digest: hash(9), terms: terms({ collateral: ["3"] }) }],
]);
const BROKEN: Record<string, BundleFacts> = {
  "an agreement without its record": bundle("agreement", "9", {}),
  "an agreement whose record is another loan's": bundle("agreement", "9", { agreement: agreementRecord("8", "e2") }),
  "an agreement without its AgreementRecorded event": bundle("agreement", "9", { agreement: agreementRecord("9", "e2") }),
  "an agreement whose record points to another event": bundle("agreement", "9", {
    agreement: agreementRecord("9", "e1"),
    events: recorded9,
  }),
  "a document named by something other than a sha256": bundle("document", "agreement.pdf", {}),
  "a document without an anchor": bundle("document", hash(0x51), {}),
  "a receivable without its ReceivableIssued event": bundle("receivable", "5", {}),
  "an order without its OrderCreated event": bundle("order", "6", {}),
};

function translator(lang: "en" | "zh"): I18n {
  const i18n = i18next.createInstance();
  void i18n.init({
    resources: { [lang]: { court: court(lang) } },
    lng: lang,
    ns: ["court"],
    defaultNS: "court",
    initAsync: false,
    interpolation: { escapeValue: false },
  });
  return i18n;
}

/** The web's way of writing a statement (Verdicts.tsx): templates of `i18n`, values formatted by `values`. */
function formatWith(i18n: I18n, values: Omit<StatementFormat, "text" | "join">, missing: string[]): StatementFormat {
  const t = (key: string, options: Record<string, unknown> = {}) => {
    if (!i18n.exists(key, options)) missing.push(key);
    return i18n.t(key, options);
  };
  return {
    ...values,
    text: (code, v) => t(`statements.${code}`, { ...v, ...(v.count !== undefined ? { count: Number(v.count) } : {}) }),
    join: (j) => t(`statements.join.${j}`),
  };
}

function codesOf(texts: StatementText[], into = new Set<string>()): Set<string> {
  for (const t of texts) {
    into.add(t.code);
    for (const p of Object.values(t.parts ?? {})) codesOf(p.texts, into);
  }
  return into;
}

describe("evidence statements as codes (statements.ts, court:statements.*)", function () {
  const en = translator("en");
  const zh = translator("zh");

  for (const [what, facts] of Object.entries(BUNDLES)) {
    it(`writes every line of ${what} from its code in the same English`, function () {
      const { problem, lines, texts } = statementsOf(facts);
      expect(problem).to.equal(null);
      expect(texts.length).to.equal(lines.length);
      const missing: string[] = [];
      const format = formatWith(en, englishValues(facts), missing);
      expect(texts.map((t) => renderStatement(t, format))).to.deep.equal(lines);
      expect(missing).to.deep.equal([]);
    });
  }

  it("reaches every statement code with these bundles (so each code above was checked against its English)", function () {
    const used = new Set<string>();
    for (const facts of Object.values(BUNDLES)) codesOf(statementsOf(facts).texts, used);
    expect(STATEMENT_TEXT_CODES.filter((c) => !used.has(c))).to.deep.equal([]);
  });

  it("names a party and an event in the web's English as the lines do", function () {
    const party = englishValues(BUNDLES[Object.keys(BUNDLES)[0]]).party(BORROWER);
    expect(en.t("statements.party", { name: "Precision Parts Co.", address: BORROWER })).to.equal(party);
    const events = court("en").statements as { events: Record<string, string> };
    for (const [name, text] of Object.entries(events.events)) expect(text, name).to.equal(eventWords(name));
  });

  it("writes every line in Chinese: each code has a Chinese text and no English sentence is left", function () {
    const left: string[] = [];
    for (const facts of Object.values(BUNDLES)) {
      const missing: string[] = [];
      const format = formatWith(
        zh,
        {
          amount: (minor) => formatAmountIn("zh", minor),
          party: (address) => {
            const p = facts.participants.find((x) => x.address === address);
            return p?.name ? zh.t("statements.party", { name: p.name, address }) : address;
          },
          time: (iso) => iso,
          event: (name) => zh.t(`statements.events.${name}`),
        },
        missing,
      );
      expect(missing, facts.id).to.deep.equal([]);
      for (const text of statementsOf(facts).texts) {
        const line = renderStatement(text, format);
        expect(line).to.match(/[\u4e00-\u9fff]/);
        const rest = line
          .replace(/0x[0-9a-fA-F]+/g, " ")
          .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, " ")
          .replace(/“[^”]*”/g, " ")
          // Identifiers: contract, event and field names.
          .replace(/\b[A-Za-z]+[A-Z][A-Za-z0-9]*\b/g, " ")
          .replace(/\b(EIP-712|Merkle|sha256|sha256sum|nonce)\b/g, " ");
        if (/[A-Za-z]{3,}/.test(rest)) left.push(line);
      }
    }
    expect(left).to.deep.equal([]);
  });

  it("writes why a bundle proves nothing from its problem code in the same English, and in Chinese, for every problem", function () {
    const [enText, zhText] = (["en", "zh"] as const).map((lang) => court(lang).verdictText as Record<string, string>);
    const fill = (template: string, params: Record<string, string>) =>
      template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => params[k] ?? `{{${k}}}`);
    const used = new Set<string>();
    for (const [what, facts] of Object.entries(BROKEN)) {
      const { problem, problemText, lines } = statementsOf(facts);
      expect(problem, what).to.be.a("string");
      expect(lines, what).to.deep.equal([]);
      if (!problemText) throw new Error(`${what}: a problem without its code`);
      used.add(problemText.code);
      expect(fill(enText[problemText.code], problemText.params), what).to.equal(problem);
      const chinese = fill(zhText[problemText.code], problemText.params);
      expect(chinese, what).to.match(/[\u4e00-\u9fff]/);
      expect(chinese, what).not.to.match(/\{\{/);
    }
    expect(STATEMENT_PROBLEM_CODES.filter((c) => !used.has(c))).to.deep.equal([]);
  });
});
