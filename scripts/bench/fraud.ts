/**
 * `npm run bench:fraud`: how the fraud screen generalizes, and what it costs.
 *
 * 1. Builds two trade networks in memory through the indexer's own reducers (the events the contracts
 *    emit: ParticipantAdmitted with keyed KYC attribute hashes, OrderCreated, ReceivableIssued and
 *    ReceivableAcknowledged, settlement-token Transfer): a background of BENCH_SMALL (200) and
 *    BENCH_LARGE (10,000) enterprises with 13 months of trade (core buyers, suppliers, tier-2 suppliers
 *    selling to suppliers, distributors buying from core buyers and selling to suppliers, payments,
 *    business-park addresses shared by up to 60 firms).
 * 2. Adds, with fresh participants, 13 fraud patterns and 13 honest look-alikes, each instantiated
 *    BENCH_INSTANCES (5) times with drawn amounts and timings. None is the seed's ring or a case of
 *    test/service/risk*.test.ts (different sizes, lengths, spellings, ownership shapes and routes).
 * 3. Screens each pattern's borrower as of the end of the history and turns the flags into the
 *    underwriting policy's flag outcome (the v1 policy's flag hard rules: decline / refer / pass), and
 *    prints per pattern: recall (fraud: declined or referred), false-decline and false-refer rates
 *    (honest look-alikes).
 * 4. Times screenBorrower per application at both sizes over the pattern borrowers and BENCH_SAMPLE
 *    background borrowers: p50/p99, with a same-run baseline: the same screen with the old bounds
 *    (cycles of at most 4 parties, relatedness one hop deep); and the cost of the cycle bound
 *    (maxCycleLength 4, 6, 8, 10) at the large size.
 * Targets (issue 19): recall >= 0.9, no honest look-alike declined, at most 1 in 10 referred, p99 < 20 ms
 * at 10,000 enterprises. The figures are printed as measured, met or not.
 */
import os from "node:os";
import type { Hex } from "viem";
import { emptyIndexState, type Address, type EventRef, type IndexState } from "../../node-service/src/domain/entities";
import type { DecodedEvent } from "../../node-service/src/indexer/decode";
import { applyEvents } from "../../node-service/src/indexer/reduce";
import { kycAttributeHash, type AttributeKind } from "../../node-service/src/domain/kyc-attributes";
import type { RiskParams } from "../../node-service/src/risk/params";
import { screenBorrower, SEVERITY_RANK, type RiskFlag } from "../../node-service/src/risk/screen";
import { CURRENT_POLICY } from "../../node-service/src/underwriting/policy";
import { sha256Hex } from "../../node-service/src/domain/hash";
import { Prng } from "../lib/prng";

const DAY = 86_400;
const SMALL_N = Number(process.env.BENCH_SMALL ?? 200);
const LARGE_N = Number(process.env.BENCH_LARGE ?? 10_000);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 5);
const SAMPLE = Number(process.env.BENCH_SAMPLE ?? 300);
const KEY = Buffer.alloc(32, 0x42);
const START = 1_760_000_000;
const END = START + 395 * DAY; // about 13 months
const M = (major: number) => BigInt(Math.round(major * 100)); // major units -> minor units

type Attr = [AttributeKind, string];

// ---------------------------------------------------------------- a network built through the reducers

class World {
  readonly state: IndexState = emptyIndexState();
  private pending: { at: number; seq: number; name: string; contract: string; args: Record<string, unknown> }[] = [];
  private seq = 0;
  private block = 0;
  private nextAccount = 1;
  private nextOrder = 1;
  private nextReceivable = 1;

  account(): Address {
    return `0x${(this.nextAccount++).toString(16).padStart(40, "0")}` as Address;
  }

  private emit(contract: string, name: string, at: number, args: Record<string, unknown>): void {
    this.pending.push({ at, seq: this.seq++, name, contract, args });
  }

  admit(at: number, attrs: Attr[], roles = 3): Address {
    const a = this.account();
    this.emit("ParticipantRegistry", "ParticipantAdmitted", at, {
      account: a,
      roles: BigInt(roles),
      kycDossierHash: sha256Hex(`dossier ${a}`),
      displayNameHash: sha256Hex(`name ${a}`),
      kycAttributes: attrs.map(([k, v]) => kycAttributeHash(KEY, k, v)),
      admittedAt: BigInt(at),
    });
    return a;
  }

  order(at: number, buyer: Address, supplier: Address, amount: bigint, document?: string): string {
    const id = this.nextOrder++;
    this.emit("TradeOrders", "OrderCreated", at, {
      orderId: BigInt(id),
      buyer,
      supplier,
      amount,
      documentHash: sha256Hex(document ?? `po ${id}`),
      deliveryDue: BigInt(at + 30 * DAY),
      createdAt: BigInt(at),
    });
    return String(id);
  }

  /** An invoice on the order, acknowledged by the buyer the next day. */
  acknowledged(at: number, orderId: string, supplier: Address, debtor: Address, amount: bigint): void {
    const id = BigInt(this.nextReceivable++);
    this.emit("Receivables", "ReceivableIssued", at, {
      receivableId: id,
      orderId: BigInt(orderId),
      supplier,
      debtor,
      faceValue: amount,
      maturity: BigInt(at + 60 * DAY),
      invoiceHash: sha256Hex(`invoice ${id}`),
      invoiceNumberHash: sha256Hex(`invoice number ${id}`),
      issuedAt: BigInt(at),
    });
    this.emit("Receivables", "ReceivableAcknowledged", at + DAY, { receivableId: id, at: BigInt(at + DAY), signature: "0x" });
  }

  transfer(at: number, from: Address, to: Address, value: bigint): void {
    this.emit("SettlementToken", "Transfer", at, { from, to, value });
  }

  mint(at: number, to: Address, value: bigint): void {
    this.transfer(at, `0x${"0".repeat(40)}` as Address, to, value);
  }

  /** An order paid `payDays` later by a token transfer (what Receivables.pay moves). */
  trade(at: number, buyer: Address, supplier: Address, amount: bigint, payDays = 45, document?: string): string {
    const id = this.order(at, buyer, supplier, amount, document);
    if (at + payDays * DAY <= END) this.transfer(at + payDays * DAY, buyer, supplier, amount);
    return id;
  }

  /** Applies the pending events in time order, one block per distinct second. */
  flush(): void {
    this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const events: DecodedEvent[] = [];
    let lastAt = -1;
    let logIndex = 0;
    for (const p of this.pending) {
      if (p.at !== lastAt) {
        this.block += 1;
        lastAt = p.at;
        logIndex = 0;
      }
      const ref: EventRef = {
        contract: p.contract,
        event: p.name,
        blockNumber: this.block,
        blockHash: `0x${this.block.toString(16).padStart(64, "0")}` as Hex,
        txHash: `0x${(p.seq + 1).toString(16).padStart(64, "0")}` as Hex,
        logIndex: logIndex++,
        at: p.at,
      };
      events.push({ ref, name: p.name, args: p.args });
    }
    this.pending = [];
    applyEvents(this.state, events, false);
  }
}

// ---------------------------------------------------------------- background economy

interface Background {
  cores: Address[];
  suppliers: Address[];
  all: Address[];
}

function buildBackground(w: World, n: number, prng: Prng): Background {
  const cores: Address[] = [];
  const suppliers: Address[] = [];
  const tier2: Address[] = [];
  const distributors: Address[] = [];
  const parks = Array.from(
    { length: Math.max(2, Math.floor(n / 150)) },
    (_, i) => `Room ${100 + (i % 50)}, ${i + 1} Innovation Park Road, Suzhou`,
  );
  const attrsFor = (i: number): Attr[] => {
    const attrs: Attr[] = [
      ["legal_representative", `Person ${i} ${prng.int(0, 1e9)}`],
      ["bank_account", `6222 ${String(i).padStart(8, "0")} ${prng.int(1000, 9999)}`],
      ["registration_id", `9132 ${String(i).padStart(10, "0")}`],
      ["phone", `+86 139 ${String(i).padStart(8, "0")}`],
    ];
    // A fifth of the firms are registered in a business park that registers many firms at one address.
    attrs.push(["registered_address", prng.chance(0.2) ? prng.pick(parks) : `${i} Own Street, Ningbo`]);
    return attrs;
  };
  for (let i = 0; i < n; i++) {
    const at = START - prng.int(30, 900) * DAY;
    const r = prng.next();
    const a = w.admit(at, attrsFor(i));
    if (r < 0.05) cores.push(a);
    else if (r < 0.75) suppliers.push(a);
    else if (r < 0.95) tier2.push(a);
    else distributors.push(a);
  }
  if (cores.length === 0) cores.push(suppliers.pop()!);
  if (distributors.length === 0) distributors.push(suppliers.pop()!);
  for (const c of cores) w.mint(START - DAY, c, M(500_000_000));
  for (const d of distributors) w.mint(START - DAY, d, M(50_000_000));
  for (const s of [...suppliers, ...tier2]) w.mint(START - DAY, s, M(prng.int(200_000, 3_000_000)));

  const monthly = (from: number, perMonth: number, f: (at: number) => void) => {
    for (let t = from; t < END - 5 * DAY; t += Math.max(DAY, Math.floor((30 * DAY) / perMonth) + prng.int(-3, 3) * DAY)) f(t);
  };
  for (const s of suppliers) {
    const buyers = Array.from({ length: prng.int(2, 5) }, () => prng.pick(cores));
    const size = prng.int(30_000, 600_000);
    monthly(START + prng.int(0, 60) * DAY, prng.int(10, 20) / 10, (at) => w.trade(at, prng.pick(buyers), s, M(size * (0.5 + prng.next()))));
    // A little material from a distributor now and then (honest cycles through core buyers exist).
    if (prng.chance(0.3)) monthly(START + prng.int(0, 90) * DAY, 0.3, (at) => w.trade(at, s, prng.pick(distributors), M(size * 0.05)));
  }
  for (const t of tier2) {
    const buyers = Array.from({ length: prng.int(2, 4) }, () => prng.pick(suppliers));
    const size = prng.int(10_000, 150_000);
    monthly(START + prng.int(0, 60) * DAY, prng.int(8, 15) / 10, (at) => w.trade(at, prng.pick(buyers), t, M(size * (0.5 + prng.next()))));
  }
  for (const d of distributors) {
    const from = Array.from({ length: 3 }, () => prng.pick(cores));
    monthly(START + prng.int(0, 30) * DAY, 2, (at) => w.trade(at, d, prng.pick(from), M(prng.int(100_000, 900_000))));
  }
  return { cores, suppliers, all: [...cores, ...suppliers, ...tier2, ...distributors] };
}

// ---------------------------------------------------------------- patterns

interface Pattern {
  name: string;
  kind: "fraud" | "honest";
  /** Builds one instance with fresh participants; returns the borrower that applies. */
  build(w: World, bg: Background, prng: Prng, k: number): Address;
}

let unique = 0;
/** A participant's own attributes, shared with no one (a counter keeps them distinct and the run deterministic). */
const fresh = (k: number, tag: string): Attr[] => {
  unique += 1;
  return [
    ["legal_representative", `${tag} rep ${k} ${unique}`],
    ["bank_account", `9558 ${k} ${String(unique).padStart(10, "0")}`],
    ["registered_address", `${k} ${tag} Lane ${unique}, Hefei`],
  ];
};

/** A new participant a year before the end, with its own attributes plus `extra`. */
function newcomer(w: World, k: number, tag: string, extra: Attr[] = [], at = START + 10 * DAY): Address {
  const a = w.admit(at, [...fresh(k, tag), ...extra]);
  w.mint(at, a, M(2_000_000));
  return a;
}

/** `ring[i]` buys from `ring[i+1]` (and the last from the first) every month for `months` months. */
function ring(w: World, members: Address[], prng: Prng, months: number, size: number, startDay = 150): void {
  for (let m = 0; m < months; m++) {
    members.forEach((buyer, i) => {
      const supplier = members[(i + 1) % members.length];
      w.trade(END - (startDay - m * 30) * DAY + i * 3600, buyer, supplier, M(size * (0.85 + 0.3 * prng.next())), 20);
    });
  }
}

/** Ordinary sales of `supplier` to core buyers over the year (what makes a borrower look established). */
function ordinarySales(w: World, bg: Background, supplier: Address, prng: Prng, perYear: number, size: number): void {
  for (let i = 0; i < perYear; i++)
    w.trade(START + prng.int(20, 370) * DAY, prng.pick(bg.cores), supplier, M(size * (0.7 + 0.6 * prng.next())));
}

const PATTERNS: Pattern[] = [
  // ------------------------------------------------ fraud
  {
    name: "5-party ring, value-balanced",
    kind: "fraud",
    build(w, bg, prng, k) {
      const members = Array.from({ length: 5 }, (_, i) => newcomer(w, k * 10 + i, "r5"));
      ordinarySales(w, bg, members[0], prng, 4, 80_000);
      ring(w, members, prng, 5, prng.int(150_000, 400_000));
      return members[0];
    },
  },
  {
    name: "7-party ring over 4 months",
    kind: "fraud",
    build(w, bg, prng, k) {
      const members = Array.from({ length: 7 }, (_, i) => newcomer(w, k * 10 + i, "r7"));
      ring(w, members, prng, 4, prng.int(100_000, 300_000), 130);
      return members[prng.int(0, 6)];
    },
  },
  {
    name: "ring through a legitimate core buyer",
    kind: "fraud",
    build(w, bg, prng, k) {
      const core = bg.cores[k % bg.cores.length];
      const [a, x] = [newcomer(w, k, "rl-a"), newcomer(w, k, "rl-x")];
      // a buys from x, x buys from the core buyer, the core buyer buys from a: the core is one leg.
      ring(w, [a, x, core], prng, 5, prng.int(200_000, 500_000));
      return a;
    },
  },
  {
    name: "4-party ring hidden in real trade (ring ~30% of volume)",
    kind: "fraud",
    build(w, bg, prng, k) {
      const members = Array.from({ length: 4 }, (_, i) => newcomer(w, k * 10 + i, "r4"));
      ordinarySales(w, bg, members[0], prng, 10, 150_000);
      ring(w, members, prng, 6, 100_000);
      return members[0];
    },
  },
  {
    name: "patient farm: 3 captive buyers over 7 months",
    kind: "fraud",
    build(w, bg, prng, k) {
      const borrower = newcomer(w, k, "pf");
      const shells = Array.from({ length: 3 }, (_, i) => newcomer(w, k * 10 + i, "pf-s", [], END - 240 * DAY));
      for (let i = 0; i < 9; i++) w.trade(END - (220 - i * 24) * DAY, shells[i % 3], borrower, M(prng.int(2_000, 9_000)), 15);
      ordinarySales(w, bg, borrower, prng, 3, 60_000);
      return borrower;
    },
  },
  {
    name: "farm with two new buyers over 45 days",
    kind: "fraud",
    build(w, bg, prng, k) {
      const borrower = newcomer(w, k, "ff", [], END - 60 * DAY);
      const shells = [newcomer(w, k, "ff-a", [], END - 50 * DAY), newcomer(w, k, "ff-b", [], END - 50 * DAY)];
      for (let i = 0; i < 6; i++) w.trade(END - (45 - i * 7) * DAY, shells[i % 2], borrower, M(prng.int(3_000, 20_000)), 5);
      return borrower;
    },
  },
  {
    name: "buyer related through a two-level holding structure",
    kind: "fraud",
    build(w, bg, prng, k) {
      const parent = `91310000HOLD${k}${prng.int(1000, 9999)}`;
      const sub = `91440300SUB${k}${prng.int(1000, 9999)}`;
      w.admit(START, [["registration_id", sub], ["owner", parent], ...fresh(k, "hs-h")]);
      const borrower = newcomer(w, k, "hs-b", [["owner", sub.toLowerCase()]]);
      const buyer = newcomer(w, k, "hs-y", [["owner", parent.replace(/(.{4})/g, "$1 ")]]);
      ordinarySales(w, bg, borrower, prng, 6, 90_000);
      for (let i = 0; i < 3; i++) {
        const at = END - (90 - i * 20) * DAY;
        const amount = M(prng.int(100_000, 300_000));
        const id = w.order(at, buyer, borrower, amount);
        w.acknowledged(at + 10 * DAY, id, borrower, buyer, amount);
      }
      return borrower;
    },
  },
  {
    name: "buyer related through a person and a shared bank account (2 hops)",
    kind: "fraud",
    build(w, bg, prng, k) {
      const person = prng.pick(["Chen Jianguo", "Liu Haiyan", "Sun Zhiqiang"]);
      const account = `6217 0033 ${prng.int(1000, 9999)} ${k}${prng.int(100, 999)}`;
      const borrower = newcomer(w, k, "mh-b", [["legal_representative", person]]);
      w.admit(START, [
        ["ultimate_owner", person.toUpperCase().split(" ").reverse().join(", ")],
        ["bank_account", account],
        ...fresh(k, "mh-m"),
      ]);
      const buyer = newcomer(w, k, "mh-y", [["bank_account", account.replace(/ /g, "-")]]);
      ordinarySales(w, bg, borrower, prng, 6, 90_000);
      const amount = M(prng.int(200_000, 600_000));
      const id = w.order(END - 40 * DAY, buyer, borrower, amount);
      w.acknowledged(END - 30 * DAY, id, borrower, buyer, amount);
      return borrower;
    },
  },
  {
    name: "shell at the same premises spelt differently (address, phone, e-mail; or rep in Chinese)",
    kind: "fraud",
    build(w, bg, prng, k) {
      const n = prng.int(10, 300);
      const borrowerAttrs: Attr[] =
        k % 2 === 0
          ? [
              ["registered_address", `${n} Binhai Harbour Road, Xiamen`],
              ["phone", `+86 135 ${k}${n} 7788`],
              ["email", `acct${k}@bh-trade.cn`],
            ]
          : [["legal_representative", "Zhou Xiaoming"]];
      const shellAttrs: Attr[] =
        k % 2 === 0
          ? [
              ["registered_address", `Ｎｏ.${n} BINHAI HARBOR RD., XIAMEN CITY`],
              ["phone", `0086 135${k}${n}7788`],
              ["email", ` ACCT${k}@BH-TRADE.CN`],
            ]
          : [["legal_representative", "周小明"]];
      const borrower = w.admit(START, [...fresh(k, "sp-b").filter(([kind]) => kind === "bank_account"), ...borrowerAttrs]);
      const shell = w.admit(START, [...fresh(k, "sp-s").filter(([kind]) => kind === "bank_account"), ...shellAttrs]);
      ordinarySales(w, bg, borrower, prng, 6, 70_000);
      const amount = M(prng.int(150_000, 450_000));
      const id = w.order(END - 50 * DAY, shell, borrower, amount);
      w.acknowledged(END - 40 * DAY, id, borrower, shell, amount);
      return borrower;
    },
  },
  {
    name: "round trip: borrower -> shell -> buyer pays the borrower",
    kind: "fraud",
    build(w, bg, prng, k) {
      const borrower = newcomer(w, k, "rt-b");
      // A pass-through shell (no money of its own) and a buyer that holds little.
      const [shell, buyer] = [w.admit(START, fresh(k, "rt-s")), w.admit(START, fresh(k, "rt-y"))];
      ordinarySales(w, bg, borrower, prng, 6, 90_000);
      const amount = M(prng.int(100_000, 500_000));
      const t = END - prng.int(40, 120) * DAY;
      w.order(t - 30 * DAY, buyer, borrower, amount);
      w.transfer(t, borrower, shell, amount);
      w.transfer(t + prng.int(1, 5) * DAY, shell, buyer, amount - M(1_000)); // keeps a fee
      w.transfer(t + prng.int(6, 12) * DAY, buyer, borrower, amount - M(1_000));
      return borrower;
    },
  },
  {
    name: "disbursed funds to a related party through two intermediaries",
    kind: "fraud",
    build(w, bg, prng, k) {
      const account = `6013 8200 ${k} ${prng.int(10_000, 99_999)}`;
      const borrower = newcomer(w, k, "rr-b", [["bank_account", account]]);
      const related = w.admit(START, [["bank_account", account.replace(/ /g, "")], ...fresh(k, "rr-r").slice(0, 1)]);
      const [s1, s2] = [w.admit(START, fresh(k, "rr-1")), w.admit(START, fresh(k, "rr-2"))];
      ordinarySales(w, bg, borrower, prng, 8, 120_000);
      const amount = M(prng.int(300_000, 900_000));
      const t = END - prng.int(30, 90) * DAY;
      w.transfer(t, borrower, s1, amount);
      w.transfer(t + 2 * DAY, s1, s2, amount);
      w.transfer(t + 4 * DAY, s2, related, amount);
      return borrower;
    },
  },
  {
    name: "fake payment record: borrower funds its buyer's payments",
    kind: "fraud",
    build(w, bg, prng, k) {
      const borrower = newcomer(w, k, "fp-b");
      const buyer = w.admit(START, fresh(k, "fp-y"));
      for (let i = 0; i < 4; i++) {
        const at = END - (200 - i * 45) * DAY;
        const amount = M(prng.int(80_000, 250_000));
        w.order(at, buyer, borrower, amount);
        w.transfer(at + 28 * DAY, borrower, buyer, amount);
        w.transfer(at + 30 * DAY, buyer, borrower, amount);
      }
      ordinarySales(w, bg, borrower, prng, 4, 60_000);
      return borrower;
    },
  },
  {
    name: "one purchase order financed twice (same PO document, two buyers)",
    kind: "fraud",
    build(w, bg, prng, k) {
      const borrower = newcomer(w, k, "po-b");
      ordinarySales(w, bg, borrower, prng, 8, 100_000);
      const doc = `PO-${k}-${prng.int(1000, 9999)}`;
      w.trade(END - 50 * DAY, bg.cores[0], borrower, M(300_000), 45, doc);
      w.trade(END - 20 * DAY, bg.cores[1 % bg.cores.length], borrower, M(310_000), 45, doc);
      return borrower;
    },
  },
  // ------------------------------------------------ honest look-alikes
  {
    name: "closed-loop scrap triangle (third leg ~3%)",
    kind: "honest",
    build(w, bg, prng, k) {
      const [a, b, c] = [newcomer(w, k, "st-a"), newcomer(w, k, "st-b"), newcomer(w, k, "st-c")];
      for (let m = 0; m < 6; m++) {
        const at = END - (170 - m * 30) * DAY;
        const big = prng.int(300_000, 600_000);
        w.trade(at, a, b, M(big));
        w.trade(at + DAY, b, c, M(big * 0.9));
        w.trade(at + 2 * DAY, c, a, M(big * 0.03)); // scrap back to a
      }
      ordinarySales(w, bg, a, prng, 6, 200_000);
      return a;
    },
  },
  {
    name: "two unrelated firms at one cluster-registration address, trading",
    kind: "honest",
    build(w, bg, prng, k) {
      const addr = `Room ${1200 + k}, ${k + 3} Qianhai Road, Shenzhen`;
      const a = w.admit(START, [...fresh(k, "cr-a").filter(([kind]) => kind !== "registered_address"), ["registered_address", addr]]);
      const b = w.admit(START, [
        ...fresh(k, "cr-b").filter(([kind]) => kind !== "registered_address"),
        ["registered_address", `Rm ${1200 + k}, No.${k + 3} QIANHAI RD.`],
      ]);
      ordinarySales(w, bg, a, prng, 8, 90_000);
      const amount = M(prng.int(50_000, 200_000));
      const id = w.order(END - 40 * DAY, b, a, amount);
      w.acknowledged(END - 30 * DAY, id, a, b, amount);
      return a;
    },
  },
  {
    name: "new supplier's six trial orders with new customers",
    kind: "honest",
    build(w, bg, prng, k) {
      const s = newcomer(w, k, "tr-s", [], END - 70 * DAY);
      for (let i = 0; i < 6; i++) {
        const customer = newcomer(w, k * 10 + i, "tr-c", [], END - 80 * DAY);
        w.trade(END - (60 - i * 8) * DAY, customer, s, M(prng.int(2_000, 8_000)), 15);
        // The customers also try other suppliers.
        w.trade(END - (55 - i * 8) * DAY, customer, prng.pick(bg.suppliers), M(prng.int(2_000, 8_000)), 15);
      }
      return s;
    },
  },
  {
    name: "new supplier with two repeat customers that also buy elsewhere",
    kind: "honest",
    build(w, bg, prng, k) {
      const s = newcomer(w, k, "rc-s", [], END - 100 * DAY);
      const customers = [newcomer(w, k, "rc-a"), newcomer(w, k, "rc-b")];
      for (const c of customers)
        for (let i = 0; i < 4; i++) w.trade(START + prng.int(20, 300) * DAY, c, prng.pick(bg.suppliers), M(prng.int(20_000, 90_000)));
      for (let i = 0; i < 6; i++) w.trade(END - (90 - i * 14) * DAY, customers[i % 2], s, M(prng.int(5_000, 30_000)), 20);
      return s;
    },
  },
  {
    name: "framework order: call-offs under one purchase-order document",
    kind: "honest",
    build(w, bg, prng, k) {
      const s = newcomer(w, k, "fw");
      const core = prng.pick(bg.cores);
      const doc = `Framework agreement ${k}-${prng.int(100, 999)}`;
      for (let i = 0; i < 5; i++) w.trade(END - (150 - i * 30) * DAY, core, s, M(prng.int(80_000, 160_000)), 45, doc);
      ordinarySales(w, bg, s, prng, 4, 100_000);
      return s;
    },
  },
  {
    name: "exclusive distributor: one captive buyer among core buyers",
    kind: "honest",
    build(w, bg, prng, k) {
      const s = newcomer(w, k, "ex-s");
      const dist = newcomer(w, k, "ex-d");
      for (let i = 0; i < 6; i++) w.trade(END - (300 - i * 45) * DAY, dist, s, M(prng.int(50_000, 120_000)));
      ordinarySales(w, bg, s, prng, 10, 150_000);
      return s;
    },
  },
  {
    name: "two-way trade with payments both ways",
    kind: "honest",
    build(w, bg, prng, k) {
      const [a, b] = [newcomer(w, k, "tw-a"), newcomer(w, k, "tw-b")];
      w.mint(START, b, M(5_000_000));
      for (let m = 0; m < 8; m++) {
        const at = END - (250 - m * 30) * DAY;
        w.trade(at, a, b, M(prng.int(50_000, 150_000)), 20);
        w.trade(at + 5 * DAY, b, a, M(prng.int(50_000, 150_000)), 20);
      }
      ordinarySales(w, bg, b, prng, 8, 150_000);
      ordinarySales(w, bg, a, prng, 6, 150_000);
      return a;
    },
  },
  {
    name: "pays a large supplier that later buys from it",
    kind: "honest",
    build(w, bg, prng, k) {
      const s = newcomer(w, k, "ls");
      const big = bg.cores[(k + 2) % bg.cores.length];
      const amount = M(prng.int(200_000, 800_000));
      w.trade(END - 80 * DAY, s, big, amount, 3);
      w.trade(END - 75 * DAY, big, s, amount, 5);
      ordinarySales(w, bg, s, prng, 6, 100_000);
      return s;
    },
  },
  {
    name: "pays a subcontractor with its own money that later buys from it",
    kind: "honest",
    build(w, bg, prng, k) {
      const s = newcomer(w, k, "sc");
      const sub = newcomer(w, k, "sc-sub");
      const amount = M(prng.int(50_000, 150_000));
      w.mint(START, sub, amount * 4n);
      w.trade(END - 60 * DAY, s, sub, amount, 2);
      w.trade(END - 55 * DAY, sub, s, amount, 4);
      ordinarySales(w, bg, s, prng, 6, 100_000);
      ordinarySales(w, bg, sub, prng, 6, 100_000);
      return s;
    },
  },
  {
    name: "long open supply chain with heavy volumes (no cycle)",
    kind: "honest",
    build(w, bg, prng, k) {
      const chain = Array.from({ length: 6 }, (_, i) => newcomer(w, k * 10 + i, "oc"));
      for (let m = 0; m < 6; m++)
        chain.slice(1).forEach((supplier, i) => w.trade(END - (170 - m * 30) * DAY, chain[i], supplier, M(prng.int(200_000, 400_000))));
      return chain[2];
    },
  },
  {
    name: "seasonal burst: many small orders from established buyers",
    kind: "honest",
    build(w, bg, prng, k) {
      const s = newcomer(w, k, "sb");
      ordinarySales(w, bg, s, prng, 6, 200_000);
      for (let i = 0; i < 12; i++) w.trade(END - prng.int(2, 28) * DAY, prng.pick(bg.cores), s, M(prng.int(1_000, 5_000)));
      return s;
    },
  },
  {
    name: "customer at the same bank, account one digit apart, same city",
    kind: "honest",
    build(w, bg, prng, k) {
      const acct = `6222 0201 00${k} ${prng.int(1000, 9998)}`;
      const next = acct.replace(/(\d)$/, (d) => String((Number(d) + 1) % 10));
      const s = w.admit(START, [
        ["bank_account", acct],
        ["registered_address", `${k + 5} Jiefang Road, Wuhan`],
        ...fresh(k, "sb-s").slice(0, 1),
      ]);
      const c = w.admit(START, [
        ["bank_account", next],
        ["registered_address", `${k + 6} Jiefang Road, Wuhan`],
        ...fresh(k, "sb-c").slice(0, 1),
      ]);
      w.mint(START, c, M(5_000_000));
      ordinarySales(w, bg, s, prng, 6, 100_000);
      const amount = M(prng.int(100_000, 300_000));
      const id = w.order(END - 40 * DAY, c, s, amount);
      w.acknowledged(END - 30 * DAY, id, s, c, amount);
      return s;
    },
  },
  {
    name: "serviced office: shared address and reception phone",
    kind: "honest",
    build(w, bg, prng, k) {
      const office = `Unit ${k + 1}, 18F, ${k + 40} Century Avenue, Shanghai`;
      const phone = `021 6888 ${String(1000 + k)}`;
      const a = w.admit(START, [["registered_address", office], ["phone", phone], ...fresh(k, "so-a").slice(0, 2)]);
      const b = w.admit(START, [
        ["registered_address", office.toUpperCase()],
        ["phone", `+86 21-6888-${1000 + k}`],
        ...fresh(k, "so-b").slice(0, 2),
      ]);
      w.mint(START, b, M(5_000_000));
      ordinarySales(w, bg, a, prng, 8, 100_000);
      const amount = M(prng.int(50_000, 150_000));
      const id = w.order(END - 45 * DAY, b, a, amount);
      w.acknowledged(END - 35 * DAY, id, a, b, amount);
      return a;
    },
  },
];

// ---------------------------------------------------------------- verdicts and timing

type Outcome = "decline" | "refer" | "pass";

/** The outcome the current policy's flag hard rules give these flags (as decide() applies them). */
function flagOutcome(flags: RiskFlag[]): Outcome {
  const rules = CURRENT_POLICY.hardRules.filter((r) => r.kind === "flag");
  const named = new Set(rules.flatMap((r) => (r.flag !== "*" ? [r.flag] : [])));
  let out: Outcome = "pass";
  for (const rule of rules) {
    const hit = flags.some(
      (f) =>
        (rule.flag === "*" ? !named.has(f.code) : f.code === rule.flag) && SEVERITY_RANK[f.severity] >= SEVERITY_RANK[rule.minSeverity],
    );
    if (!hit) continue;
    if (rule.outcome === "decline") return "decline";
    out = "refer";
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Timing {
  /** Wall-clock ms. */
  p50: number;
  p99: number;
  max: number;
  /** CPU ms of this process (user + system): what the screen costs, without the time other processes on a shared machine take. */
  cpuP50: number;
  cpuP99: number;
}

/** Each borrower screened once after a warm-up pass; wall and process CPU time per screening. */
function timeScreens(state: IndexState, borrowers: Address[], params?: Partial<RiskParams>): Timing {
  for (const b of borrowers) screenBorrower(state, b, { asOf: END, params }); // warm-up (JIT)
  const ms: number[] = [];
  const cpu: number[] = [];
  for (const b of borrowers) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    screenBorrower(state, b, { asOf: END, params });
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  ms.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return {
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: ms[ms.length - 1],
    cpuP50: percentile(cpu, 50),
    cpuP99: percentile(cpu, 99),
  };
}

const OLD_BOUNDS: Partial<RiskParams> = { maxCycleLength: 4, relatedMaxHops: 1 };

interface Built {
  world: World;
  bg: Background;
  instances: { pattern: Pattern; borrower: Address }[];
  buildSeconds: number;
}

function build(n: number, seed: number): Built {
  const t0 = performance.now();
  const prng = new Prng(seed);
  const world = new World();
  const bg = buildBackground(world, n, prng);
  world.flush(); // the background is admitted before the patterns refer to it
  const instances: Built["instances"] = [];
  for (const pattern of PATTERNS)
    for (let k = 0; k < INSTANCES; k++) instances.push({ pattern, borrower: pattern.build(world, bg, prng, k) });
  world.flush();
  return { world, bg, instances, buildSeconds: (performance.now() - t0) / 1000 };
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

function main(): void {
  console.log(
    `bench:fraud: ${PATTERNS.filter((p) => p.kind === "fraud").length} fraud patterns and ${PATTERNS.filter((p) => p.kind === "honest").length} honest look-alikes, ${INSTANCES} instances each`,
  );
  const results: Record<string, { n: number; decline: number; refer: number; codes: Map<string, number> }> = {};
  const timing: {
    n: number;
    enterprises: number;
    orders: number;
    transfers: number;
    build: number;
    screen: Timing;
    base: Timing;
    bgRates: { decline: number; refer: number };
  }[] = [];
  let large: Built | undefined;
  for (const n of [SMALL_N, LARGE_N]) {
    const built = build(n, 19 + n);
    const { world, bg, instances } = built;
    const state = world.state;
    for (const { pattern, borrower } of instances) {
      const flags = screenBorrower(state, borrower, { asOf: END });
      const outcome = flagOutcome(flags);
      const key = `${pattern.kind}\u0000${pattern.name}`;
      const r = (results[key] ??= { n: 0, decline: 0, refer: 0, codes: new Map() });
      r.n += 1;
      if (outcome === "decline") r.decline += 1;
      if (outcome === "refer") r.refer += 1;
      for (const f of flags) if (f.severity !== "info") r.codes.set(f.code, (r.codes.get(f.code) ?? 0) + 1);
    }
    const prng = new Prng(7);
    const sample = Array.from({ length: Math.min(SAMPLE, bg.all.length) }, () => prng.pick(bg.all));
    const borrowers = [...instances.map((i) => i.borrower), ...sample];
    let bgDecline = 0;
    let bgRefer = 0;
    for (const b of sample) {
      const o = flagOutcome(screenBorrower(state, b, { asOf: END }));
      if (o === "decline") bgDecline += 1;
      if (o === "refer") bgRefer += 1;
    }
    timing.push({
      n: borrowers.length,
      enterprises: Object.keys(state.participants).length,
      orders: Object.keys(state.orders).length,
      transfers: Object.keys(state.transfers).length,
      build: built.buildSeconds,
      screen: timeScreens(state, borrowers),
      base: timeScreens(state, borrowers, OLD_BOUNDS),
      bgRates: { decline: bgDecline / sample.length, refer: bgRefer / sample.length },
    });
    if (n === LARGE_N) large = built;
  }

  console.log("\nper pattern (both network sizes pooled; fraud caught = declined or referred by the v1 policy's flag rules)");
  console.log(
    `${pad("kind", 7)}${pad("pattern", 92)}${pad("n", 4)}${pad("recall", 8)}${pad("f-decl", 8)}${pad("f-refer", 8)}flags raised (warn/block)`,
  );
  let fraudN = 0;
  let caught = 0;
  let honestN = 0;
  let honestDecline = 0;
  let honestRefer = 0;
  for (const [key, r] of Object.entries(results)) {
    const [kind, name] = key.split("\u0000");
    const codes = [...r.codes.entries()].map(([c, x]) => `${c}:${x}`).join(" ");
    if (kind === "fraud") {
      fraudN += r.n;
      caught += r.decline + r.refer;
      console.log(
        `${pad(kind, 7)}${pad(name, 92)}${pad(r.n, 4)}${pad(((r.decline + r.refer) / r.n).toFixed(2), 8)}${pad("-", 8)}${pad("-", 8)}${codes}`,
      );
    } else {
      honestN += r.n;
      honestDecline += r.decline;
      honestRefer += r.refer;
      console.log(
        `${pad(kind, 7)}${pad(name, 92)}${pad(r.n, 4)}${pad("-", 8)}${pad((r.decline / r.n).toFixed(2), 8)}${pad((r.refer / r.n).toFixed(2), 8)}${codes}`,
      );
    }
  }
  const recall = caught / fraudN;
  const fRefer = honestRefer / honestN;
  console.log(
    `\noverall: recall ${recall.toFixed(3)} (${caught}/${fraudN}, target >= 0.9), honest declined ${honestDecline}/${honestN} (target 0), honest referred ${fRefer.toFixed(3)} (${honestRefer}/${honestN}, target <= 0.1)`,
  );

  const load = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
  console.log(`\nscreening time per application (screenBorrower in process; load average ${load} on ${os.cpus().length} CPUs)`);
  console.log("  baseline, same run: the same screen with the old bounds (cycles <= 4 parties, relatedness 1 hop)");
  for (const t of timing) {
    console.log(
      `  ${t.enterprises} enterprises, ${t.orders} orders, ${t.transfers} transfers (built in ${t.build.toFixed(1)} s); ${t.n} screenings:`,
    );
    console.log(
      `    wall: p50 ${t.screen.p50.toFixed(2)} ms, p99 ${t.screen.p99.toFixed(2)} ms, max ${t.screen.max.toFixed(2)} ms | baseline p50 ${t.base.p50.toFixed(2)} ms, p99 ${t.base.p99.toFixed(2)} ms | ratio p99 ${(t.screen.p99 / t.base.p99).toFixed(2)}x`,
    );
    console.log(
      `    cpu:  p50 ${t.screen.cpuP50.toFixed(2)} ms, p99 ${t.screen.cpuP99.toFixed(2)} ms | baseline p50 ${t.base.cpuP50.toFixed(2)} ms, p99 ${t.base.cpuP99.toFixed(2)} ms | ratio p99 ${(t.screen.cpuP99 / t.base.cpuP99).toFixed(2)}x`,
    );
    console.log(
      `    background sample: ${(t.bgRates.decline * 100).toFixed(1)}% declined, ${(t.bgRates.refer * 100).toFixed(1)}% referred by flags`,
    );
  }
  const last = timing[timing.length - 1];
  console.log(
    `  target p99 < 20 ms at ${last.enterprises} enterprises: wall ${last.screen.p99 < 20 ? "met" : "MISSED"} (${last.screen.p99.toFixed(2)} ms), cpu ${last.screen.cpuP99 < 20 ? "met" : "MISSED"} (${last.screen.cpuP99.toFixed(2)} ms)`,
  );

  if (large) {
    const borrowers = [...large.instances.map((i) => i.borrower), ...large.bg.all.slice(0, SAMPLE)];
    console.log(
      `\ncost of the cycle bound at ${Object.keys(large.world.state.participants).length} enterprises (p99 of ${borrowers.length} screenings, other bounds default)`,
    );
    for (const maxCycleLength of [4, 6, 8, 10]) {
      const t = timeScreens(large.world.state, borrowers, { maxCycleLength });
      const rings = large.instances.filter((i) => i.pattern.name.includes("ring"));
      const found = rings.filter((i) =>
        screenBorrower(large!.world.state, i.borrower, { asOf: END, params: { maxCycleLength } }).some(
          (f) => f.code === "circular_trading",
        ),
      ).length;
      console.log(
        `  maxCycleLength ${pad(maxCycleLength, 3)} wall p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms; cpu p99 ${t.cpuP99.toFixed(2)} ms; ring instances caught by the cycle flag ${found}/${rings.length}`,
      );
    }
    for (const relatedMaxHops of [1, 2, 3, 4]) {
      const t = timeScreens(large.world.state, borrowers, { relatedMaxHops });
      console.log(
        `  relatedMaxHops ${pad(relatedMaxHops, 3)} wall p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms; cpu p99 ${t.cpuP99.toFixed(2)} ms`,
      );
    }
  }
}

main();
