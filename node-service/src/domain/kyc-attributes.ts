/**
 * KYC attributes on chain: keyed hashes of canonical text, never anything a dictionary can reverse.
 *
 * The consortium operator holds an HMAC key off chain (KYC_HMAC_KEY). A participant's dossier and
 * each KYC attribute (legal representative, registered address, bank account, owner...) go on
 * chain as HMAC-SHA256(key, space || canonical text), so two participants that share an attribute
 * share its hash (the related-party screen compares them) while no one without the key can test a
 * guess. Before hashing, text is put in one canonical form (the written rules are in `canonicalize`),
 * so spelling variants of the same thing hash alike: "88 Harbour Road" and "No.88 Harbor Rd." are one
 * address.
 *
 * An attribute hash is bytes32 = one kind byte || the first 31 bytes of the HMAC. The kind byte
 * (public) says what the attribute is, which weighs how strongly a shared attribute relates two
 * parties; the HMAC covers the attribute's value *space* (person, address, account, entity, phone,
 * email), not its kind, so a person who is one firm's legal representative and another's ultimate
 * owner, or a holding company that owns one firm and is itself registered, links the two.
 */
import { createHmac } from "node:crypto";
import type { Hex } from "viem";
import { pinyin } from "pinyin-pro";
import { displayNameCommitment } from "./name-commitment";

export type ValueSpace = "person" | "address" | "account" | "entity" | "phone" | "email" | "name";

export interface AttributeKindDef {
  code: number;
  space: Exclude<ValueSpace, "name">;
  /** How strongly sharing this attribute alone relates two participants, 0..1. */
  weight: number;
  label: string;
}

/**
 * The attribute kinds, their one-byte codes (on chain, never renumber) and weights. A shared bank
 * account, legal representative, owner or registration is control; a shared registered address is
 * what unrelated firms in one business park or cluster-registration building have.
 */
export const ATTRIBUTE_KINDS = {
  legal_representative: { code: 0x01, space: "person", weight: 1, label: "legal representative" },
  ultimate_owner: { code: 0x02, space: "person", weight: 1, label: "ultimate beneficial owner" },
  director: { code: 0x03, space: "person", weight: 0.6, label: "director" },
  registration_id: { code: 0x04, space: "entity", weight: 1, label: "company registration" },
  owner: { code: 0x05, space: "entity", weight: 1, label: "owning company" },
  bank_account: { code: 0x06, space: "account", weight: 1, label: "bank account" },
  registered_address: { code: 0x07, space: "address", weight: 0.3, label: "registered address" },
  phone: { code: 0x08, space: "phone", weight: 0.5, label: "phone number" },
  email: { code: 0x09, space: "email", weight: 0.5, label: "e-mail address" },
} as const satisfies Record<string, AttributeKindDef>;

export type AttributeKind = keyof typeof ATTRIBUTE_KINDS;

const KIND_BY_CODE = new Map<number, AttributeKind>(
  (Object.entries(ATTRIBUTE_KINDS) as [AttributeKind, AttributeKindDef][]).map(([k, d]) => [d.code, k]),
);

/** Weight of an attribute hash whose kind byte is unknown (hashes made before kinds existed). */
export const UNKNOWN_KIND_WEIGHT = 0.5;

// ---------------------------------------------------------------- canonical text

/** Structural words of Chinese addresses and company names, replaced before the rest goes to pinyin. */
const CJK_WORDS: [RegExp, string][] = [
  [/股份有限公司|有限责任公司|有限公司|公司/gu, " co "],
  [/集团/gu, " group "],
  [/工业园区|工业园/gu, " industrial park "],
  [/科技园/gu, " science park "],
  [/大道/gu, " avenue "],
  [/路/gu, " road "],
  [/街/gu, " street "],
  [/号/gu, " no "],
  [/室/gu, " room "],
  [/[楼层]/gu, " floor "],
  [/[栋幢座]/gu, " building "],
  [/[市省县]/gu, " "],
  [/区/gu, " district "],
  [/镇/gu, " town "],
  [/村/gu, " village "],
];

/** Latin abbreviations and spellings -> one canonical token ("" drops the token). */
const LATIN_TOKENS: Record<string, string> = {
  rd: "road",
  st: "street",
  str: "street",
  ave: "avenue",
  av: "avenue",
  blvd: "boulevard",
  hwy: "highway",
  bldg: "building",
  blk: "building",
  block: "building",
  fl: "floor",
  flr: "floor",
  rm: "room",
  unit: "room",
  dist: "district",
  ind: "industrial",
  indus: "industrial",
  sci: "science",
  harbour: "harbor",
  centre: "center",
  ctr: "center",
  intl: "international",
  no: "",
  nr: "",
  num: "",
  number: "",
  city: "",
  province: "",
  county: "",
  prc: "",
  china: "",
  // legal forms: "Apex Trading Co., Ltd." is "Apex Trading Company Limited"
  co: "",
  company: "",
  ltd: "",
  limited: "",
  inc: "",
  incorporated: "",
  corp: "",
  corporation: "",
  llc: "",
  plc: "",
  gmbh: "",
  // honorifics in person names
  mr: "",
  mrs: "",
  ms: "",
  dr: "",
};

const CJK_RUN = /[\p{Script=Han}]+/gu;

/** Two-character surnames, written as one word in pinyin. */
const COMPOUND_SURNAMES = new Set(["欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯"]);

/**
 * Chinese characters -> pinyin without tones. Addresses and company names: each run is one word.
 * Person names: the surname (first character, or a two-character surname) and the given name are
 * two words, as pinyin writes them ("张小明" -> "zhang xiaoming").
 */
function romanize(text: string, asName: boolean): string {
  return text.replace(CJK_RUN, (run) => {
    const syllables = pinyin(run, { toneType: "none", type: "array", v: true }) as string[];
    if (!asName || syllables.length < 2) return ` ${syllables.join("")} `;
    const surname = COMPOUND_SURNAMES.has(run.slice(0, 2)) && syllables.length > 2 ? 2 : 1;
    return ` ${syllables.slice(0, surname).join("")} ${syllables.slice(surname).join("")} `;
  });
}

/** NFKC (full-width letters and digits become ASCII), lower case, combining marks removed. */
function fold(text: string): string {
  return text.normalize("NFKC").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** Words of Latin text: in-word dots, hyphens and apostrophes join; other punctuation separates; letters and digits split. */
function words(text: string): string[] {
  return text
    .replace(/(\p{L})[.'’-](?=\p{L})/gu, "$1")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .replace(/(\d+)(st|nd|rd|th)\b/g, "$1") // 3rd -> 3
    .replace(/(\p{L})(\d)/gu, "$1 $2")
    .replace(/(\d)(\p{L})/gu, "$1 $2")
    .split(" ")
    .filter((w) => w.length > 0);
}

function tokens(text: string): string[] {
  return words(text)
    .map((w) => (w in LATIN_TOKENS ? LATIN_TOKENS[w] : w))
    .filter((w) => w.length > 0);
}

/**
 * The canonical text of an attribute value, per value space. The rules, in order:
 * - every space: Unicode NFKC (full-width digits and letters become ASCII), accents removed, lower case;
 * - addresses and company names: Chinese structural words become their Latin word (路 road, 号 number,
 *   有限公司 company...), each remaining run of Chinese characters becomes one pinyin word (深圳 ->
 *   "shenzhen", 海港 -> "haigang"); punctuation separates words, in-word dots and hyphens join them
 *   ("Hi-Tech" -> "hitech"), letters and digits split ("No.88" -> "no 88"); abbreviations and British
 *   spellings become one form (Rd. -> road, Harbour -> harbor); number markers, city/province words
 *   and legal forms (Co., Ltd., Inc., 有限公司) are dropped;
 * - addresses: the words are sorted, so "88 Harbor Road, Shenzhen" and "深圳市海港路88号" ("shenzhen
 *   haigang road 88") compare equal, as do "88 Harbour Road" and "No.88 Harbor Rd.";
 * - company names: the words keep their order and are written together, so "深圳华信有限公司",
 *   "Shenzhen Huaxin Co., Ltd." and "SHENZHEN-HUAXIN COMPANY LIMITED" are one name;
 * - person names: Chinese characters become pinyin as it writes names, surname and given name as two
 *   words ("张小明" -> "zhang xiaoming"); in Latin text in-word hyphens join ("Xiao-Ming" -> "xiaoming"),
 *   honorifics drop; the words are sorted, so "张小明", "Zhang Xiaoming", "XIAOMING ZHANG" and
 *   "Zhang, Xiao-Ming" are one name;
 * - bank accounts and registration numbers: letters and digits only, upper case;
 * - phone numbers: digits only, without a leading 0086/+86 country code;
 * - e-mail addresses: trimmed, lower case.
 * Known limits: a Chinese name compares equal to its pinyin, not to an English translation ("海港" is
 * "Haigang", not "Harbour"); a given name written as two words ("Xiao Ming") differs from "Xiaoming";
 * swapping surname and given name gives the same name (sorted words).
 */
export function canonicalize(space: ValueSpace, text: string): string {
  const folded = fold(text);
  switch (space) {
    case "account":
    case "entity":
      return folded.replace(/[^\p{L}\p{N}]/gu, "").toUpperCase();
    case "phone": {
      const digits = folded.replace(/\D/g, "");
      return digits.length > 11 ? digits.replace(/^(00)?86/, "") : digits;
    }
    case "email":
      return folded.trim();
    case "person":
      return tokens(romanize(folded, true)).sort().join(" ");
    case "address":
    case "name": {
      let s = folded;
      for (const [re, word] of CJK_WORDS) s = s.replace(re, word);
      const t = tokens(romanize(s, false));
      return space === "address" ? t.sort().join(" ") : t.join("");
    }
  }
}

// ---------------------------------------------------------------- keyed hashes

const DOMAIN = "scf-kyc-v1";

function hmac(key: Uint8Array, space: string, canonical: string): Buffer {
  if (key.length < 32) throw new RangeError("the KYC HMAC key must be at least 32 bytes");
  return createHmac("sha256", key).update(`${DOMAIN}\u0000${space}\u0000${canonical}`, "utf8").digest();
}

/** The on-chain hash of one KYC attribute: kind byte || first 31 bytes of the keyed hash of its canonical value. */
export function kycAttributeHash(key: Uint8Array, kind: AttributeKind, value: string): Hex {
  const def = ATTRIBUTE_KINDS[kind];
  const mac = hmac(key, def.space, canonicalize(def.space, value));
  return `0x${def.code.toString(16).padStart(2, "0")}${mac.subarray(0, 31).toString("hex")}`;
}

/**
 * The salt of a participant's display-name commitment: the operator's keyed hash of the account, so the
 * operator re-derives it and can reveal it (with the name) without revealing its key or anything else.
 */
export function displayNameSalt(key: Uint8Array, account: string): Hex {
  return `0x${hmac(key, "name-salt", account.toLowerCase()).toString("hex")}`;
}

/**
 * The on-chain display-name hash: a salted commitment to the exact name (domain/name-commitment.ts), so
 * anyone given the name and its salt can check it against the registry and nobody else can test a guess.
 */
export function displayNameHash(key: Uint8Array, account: string, name: string): Hex {
  return displayNameCommitment(displayNameSalt(key, account), name);
}

/** The on-chain dossier hash: the keyed hash of the dossier's canonical JSON (keys sorted, values canonicalized by the caller). */
export function dossierHash(key: Uint8Array, dossier: Record<string, string>): Hex {
  const sorted = Object.keys(dossier)
    .sort()
    .map((k) => [k, dossier[k]]);
  return `0x${hmac(key, "dossier", JSON.stringify(sorted)).toString("hex")}`;
}

/**
 * The operator's key from the environment: KYC_HMAC_KEY as 64 or more hex digits (32+ bytes).
 * Throws a sentence naming the variable when it is missing or malformed.
 */
export function kycKeyFromEnv(env: Record<string, string | undefined> = process.env): Buffer {
  const raw = env.KYC_HMAC_KEY?.trim();
  if (!raw) throw new Error("KYC_HMAC_KEY is not set: the operator's HMAC key for KYC hashes (64+ hex digits) is required");
  if (!/^(0x)?([0-9a-fA-F]{2}){32,}$/.test(raw)) throw new Error("KYC_HMAC_KEY must be at least 32 bytes written as hex digits");
  return Buffer.from(raw.replace(/^0x/, ""), "hex");
}

/** What the screen reads from an on-chain attribute hash: its kind (from the public byte) and the comparable value. */
export interface DecodedAttribute {
  hash: Hex;
  kind: AttributeKind | "unknown";
  weight: number;
  /** The 31 keyed bytes: equal values of one space are equal here, whatever their kinds. */
  value: string;
}

export function decodeAttribute(hash: Hex): DecodedAttribute {
  const h = hash.toLowerCase() as Hex;
  const kind = KIND_BY_CODE.get(parseInt(h.slice(2, 4), 16));
  return kind
    ? { hash: h, kind, weight: ATTRIBUTE_KINDS[kind].weight, value: h.slice(4) }
    : { hash: h, kind: "unknown", weight: UNKNOWN_KIND_WEIGHT, value: h.slice(2) };
}
