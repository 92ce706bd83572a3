/**
 * Canonical KYC text and keyed attribute hashes (node-service/src/domain/kyc-attributes.ts): properties over
 * generated spellings of the same address, name and account, and of different ones.
 */
import { expect } from "chai";
import fc from "fast-check";
import { createHash } from "node:crypto";
import {
  ATTRIBUTE_KINDS,
  canonicalize,
  decodeAttribute,
  displayNameHash,
  kycAttributeHash,
  kycKeyFromEnv,
  type ValueSpace,
} from "../../node-service/src/domain/kyc-attributes";

const KEY = Buffer.alloc(32, 1);
const OTHER_KEY = Buffer.alloc(32, 2);

/** ASCII -> full-width forms (what an IME in full-width mode types). */
const fullWidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).replace(/ /g, "\u3000");

const STREETS = ["Harbour", "Industrial", "Science Park", "Export", "Hi-Tech", "Binhai", "Nanshan"];
const CITIES = ["Shenzhen", "Ningbo", "Suzhou", "Hefei"];

/** One address and a way of writing it: number marker, road abbreviation, spelling, case, width, spacing. */
const addressSpelling = fc.record({
  number: fc.integer({ min: 1, max: 999 }),
  street: fc.constantFrom(...STREETS),
  city: fc.constantFrom(...CITIES),
  marker: fc.constantFrom("", "No.", "No. ", "#", "Number "),
  road: fc.constantFrom("Road", "Rd.", "Rd", "RD", "road"),
  american: fc.boolean(),
  cityWord: fc.constantFrom("", " City"),
  separator: fc.constantFrom(", ", " , ", ",", "  "),
  upper: fc.boolean(),
  wide: fc.boolean(),
});

type AddressSpelling = typeof addressSpelling extends fc.Arbitrary<infer T> ? T : never;

function writeAddress(a: AddressSpelling): string {
  const street = a.american ? a.street.replace("Harbour", "Harbor") : a.street;
  let s = `${a.marker}${a.number} ${street} ${a.road}${a.separator}${a.city}${a.cityWord}`;
  if (a.upper) s = s.toUpperCase();
  if (a.wide) s = fullWidth(s);
  return s;
}

describe("KYC attribute canonicalization and keyed hashes", () => {
  it("writes the documented examples alike: abbreviations, British spelling, full width, Chinese and pinyin forms", () => {
    const same = (space: ValueSpace, ...xs: string[]) =>
      expect(new Set(xs.map((x) => canonicalize(space, x))).size, xs.join(" | ")).to.equal(1);
    same("address", "88 Harbour Road", "No.88 Harbor Rd.", "８８　Ｈａｒｂｏｕｒ　Ｒｏａｄ", "#88, HARBOR RD");
    same("address", "深圳市海港路88号", "88 Haigang Road, Shenzhen", "No.88 Haigang Rd., Shenzhen City");
    same("person", "张小明", "Zhang Xiao-Ming", "XIAOMING ZHANG", "Mr. Zhang, Xiaoming", "Ｚｈａｎｇ Ｘｉａｏｍｉｎｇ");
    same("person", "欧阳娜娜", "Ouyang Nana");
    same(
      "name",
      "深圳华信有限公司",
      "Shenzhen Huaxin Co., Ltd.",
      "SHENZHEN-HUAXIN COMPANY LIMITED",
      "Ｓｈｅｎｚｈｅｎ Ｈｕａｘｉｎ Ｌｔｄ",
    );
    same("account", "6222 0201 0012 3456", "6222-0201-0012-3456", "６２２２０２０１００１２３４５６");
    same("phone", "+86 138-0013-8000", "0086 13800138000", "138 0013 8000");
    same("email", " Finance@Apex.CN ", "finance@apex.cn");
  });

  it("is idempotent on any text (property)", () => {
    const text = fc.string({
      unit: fc.constantFrom(..."aAzZ09 .,-#/()'ＡＺ０９　海港路号深圳有限公司张伟李ÄéÑ\u3000\t".split("")),
      maxLength: 40,
    });
    const space = fc.constantFrom<ValueSpace>("person", "address", "account", "entity", "phone", "email", "name");
    fc.assert(
      fc.property(space, text, (sp, t) => {
        const once = canonicalize(sp, t);
        expect(canonicalize(sp, once)).to.equal(once);
      }),
      { numRuns: 500 },
    );
  });

  it("gives every spelling of one address the same hash, and different addresses different hashes (property)", () => {
    fc.assert(
      fc.property(addressSpelling, addressSpelling, (x, y) => {
        const hx = kycAttributeHash(KEY, "registered_address", writeAddress(x));
        const respelt = { ...y, number: x.number, street: x.street, city: x.city };
        expect(kycAttributeHash(KEY, "registered_address", writeAddress(respelt))).to.equal(hx);
        const same = x.number === y.number && x.street === y.street && x.city === y.city;
        expect(kycAttributeHash(KEY, "registered_address", writeAddress(y)) === hx).to.equal(same);
      }),
      { numRuns: 400 },
    );
  });

  it("tells different account numbers and names apart however they are written (property)", () => {
    const digits = fc.string({ unit: fc.constantFrom(..."0123456789".split("")), minLength: 8, maxLength: 19 });
    const group = (s: string, sep: string) => s.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
    fc.assert(
      fc.property(digits, digits, fc.constantFrom(" ", "-", "", " - "), fc.boolean(), (a, b, sep, wide) => {
        const written = wide ? fullWidth(group(a, sep)) : group(a, sep);
        expect(kycAttributeHash(KEY, "bank_account", written)).to.equal(kycAttributeHash(KEY, "bank_account", a));
        expect(kycAttributeHash(KEY, "bank_account", b) === kycAttributeHash(KEY, "bank_account", a)).to.equal(a === b);
      }),
      { numRuns: 400 },
    );
    const surname = fc.constantFrom<string>("Li", "Wang", "Zhang", "Liu", "Chen", "Zhao");
    const given = fc.constantFrom<string>("Wei", "Na", "Fang", "Min", "Jie", "Tao");
    fc.assert(
      fc.property(surname, given, surname, given, fc.boolean(), (s1, g1, s2, g2, westernOrder) => {
        const h = kycAttributeHash(KEY, "legal_representative", `${s1} ${g1}`);
        expect(
          kycAttributeHash(KEY, "legal_representative", westernOrder ? `${g1.toUpperCase()}, ${s1}` : `${s1.toUpperCase()} ${g1}`),
        ).to.equal(h);
        const differs = kycAttributeHash(KEY, "legal_representative", `${s2} ${g2}`) !== h;
        // Swapping surname and given name is the one collision the sorted-words rule accepts.
        expect(differs).to.equal(!((s1 === s2 && g1 === g2) || (s1 === g2 && g1 === s2)));
      }),
      { numRuns: 300 },
    );
  });

  it("keys the hash: the kind byte is public, the rest depends on the operator's key and is not a plain sha256", () => {
    const h = kycAttributeHash(KEY, "legal_representative", "Li Wei");
    expect(h).to.match(/^0x01[0-9a-f]{62}$/);
    expect(kycAttributeHash(OTHER_KEY, "legal_representative", "Li Wei")).to.not.equal(h);
    const plain = `0x${createHash("sha256").update(canonicalize("person", "Li Wei")).digest("hex")}`;
    expect(h.slice(4)).to.not.equal(plain.slice(4, 66));
    // The display name is a salted commitment per account (names.test.ts): not a plain sha256, not one hash for two accounts.
    const apex = "0x00000000000000000000000000000000000000a1";
    expect(displayNameHash(KEY, apex, "Apex Trading")).to.not.equal(`0x${createHash("sha256").update("Apex Trading").digest("hex")}`);
    expect(displayNameHash(KEY, apex, "Apex Trading")).to.not.equal(
      displayNameHash(KEY, "0x00000000000000000000000000000000000000a2", "Apex Trading"),
    );
    // A value links across kinds of one space (a legal representative who is another firm's owner)...
    const owner = decodeAttribute(kycAttributeHash(KEY, "ultimate_owner", "李伟"));
    expect(owner.kind).to.equal("ultimate_owner");
    expect(owner.value).to.equal(decodeAttribute(h).value);
    expect(owner.weight).to.equal(ATTRIBUTE_KINDS.ultimate_owner.weight);
    // ...never across spaces (an account number that happens to read like a registration number).
    expect(decodeAttribute(kycAttributeHash(KEY, "bank_account", "91440300")).value).to.not.equal(
      decodeAttribute(kycAttributeHash(KEY, "registration_id", "91440300")).value,
    );
  });

  it("refuses a missing, short or malformed KYC_HMAC_KEY with a sentence naming it", () => {
    expect(() => kycKeyFromEnv({})).to.throw(/KYC_HMAC_KEY is not set/);
    expect(() => kycKeyFromEnv({ KYC_HMAC_KEY: "ab".repeat(16) })).to.throw(/KYC_HMAC_KEY must be at least 32 bytes/);
    expect(() => kycKeyFromEnv({ KYC_HMAC_KEY: "zz".repeat(32) })).to.throw(/KYC_HMAC_KEY/);
    expect(kycKeyFromEnv({ KYC_HMAC_KEY: `0x${"ab".repeat(32)}` })).to.have.length(32);
    expect(() => kycAttributeHash(Buffer.alloc(16), "email", "a@b.c")).to.throw(/at least 32 bytes/);
  });
});
