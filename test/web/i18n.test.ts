/**
 * No string of the web UI is left untranslated: every namespace has the same keys in English and
 * Simplified Chinese, no value is empty, placeholders match, Chinese text is Chinese, and every key the
 * code asks for exists. Plus the locale formatting of amounts, dates and times.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { formatAmountIn, formatDateIn, formatDateTimeIn } from "../../web/src/i18n/format";
import { METRIC_DEFINITIONS } from "../../node-service/src/metrics/definitions";
import { STEP_LABELS } from "../../node-service/src/applications/types";
import { LOAN_STATUSES, ORDER_STATUSES, RECEIVABLE_STATUSES } from "../../node-service/src/domain/entities";
import { SCOPE } from "../../node-service/src/chain/eip712";
import { DECISION_REASON_CODES, EXPLAIN_CODES } from "../../node-service/src/underwriting/explain";
import { FLAG_TEXT_CODES } from "../../node-service/src/risk/screen";
import { ATTRIBUTE_KINDS } from "../../node-service/src/domain/kyc-attributes";
import { CURRENT_POLICY } from "../../node-service/src/underwriting/policy";
import { VERDICT_TEXT_CODES } from "../../node-service/src/evidence/verify";
import { STATEMENT_JOINS, STATEMENT_TEXT_CODES } from "../../node-service/src/evidence/statements";
import { BUNDLE_KINDS, BundleTimestampSchema } from "../../node-service/src/evidence/bundle-format";

const WEB_SRC = path.resolve(__dirname, "../../web/src");
const LOCALES = path.join(WEB_SRC, "i18n/locales");
const LANGS = ["en", "zh"] as const;

type Tree = { [key: string]: string | Tree };

function readNamespaces(lang: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const file of readdirSync(path.join(LOCALES, lang)).filter((f) => f.endsWith(".json"))) {
    const flat = new Map<string, string>();
    const walk = (node: Tree, prefix: string) => {
      for (const [k, v] of Object.entries(node)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (typeof v === "string") flat.set(key, v);
        else if (v && typeof v === "object" && !Array.isArray(v)) walk(v, key);
        else throw new Error(`${lang}/${file}: "${key}" is neither text nor a group of texts`);
      }
    };
    walk(JSON.parse(readFileSync(path.join(LOCALES, lang, file), "utf8")) as Tree, "");
    out.set(file.replace(/\.json$/, ""), flat);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(name) ? [p] : [];
  });
}

const PLURAL = /_(zero|one|two|few|many|other)$/;
const singular = (key: string) => key.replace(PLURAL, "");
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}|<(\d+|\w+)>/g)].map((m) => m[1] ?? m[2]).sort();
/** Latin words that stay as they are in Chinese text: codes, standards and names. */
const KEPT_IN_CHINESE =
  /\b(CNY|CSV|JSON|RPC|JSON-RPC|API|ID|URL|PDF|HTTP|HTTPS|SIWE|EIP-712|RFC|TSA|SHA-256|UTC|HHI|OK|PKCS|DER|PEM|ETH|dCNY|Hardhat|Anvil|Chain|Merkle|ECDSA|keccak256|nonce|hash)\b/g;

describe("web UI translations (web/src/i18n/locales)", function () {
  const byLang = Object.fromEntries(LANGS.map((l) => [l, readNamespaces(l)])) as Record<
    (typeof LANGS)[number],
    ReturnType<typeof readNamespaces>
  >;

  it("has the same namespaces in English and Chinese, including common", function () {
    expect([...byLang.zh.keys()].sort()).to.deep.equal([...byLang.en.keys()].sort());
    expect([...byLang.en.keys()]).to.include("common");
  });

  it("has the same keys in English and Chinese in every namespace (plural forms as each language has them)", function () {
    for (const [ns, en] of byLang.en) {
      const zh = byLang.zh.get(ns) ?? new Map<string, string>();
      const [enKeys, zhKeys] = [new Set([...en.keys()].map(singular)), new Set([...zh.keys()].map(singular))];
      const missingInZh = [...enKeys].filter((k) => !zhKeys.has(k));
      const missingInEn = [...zhKeys].filter((k) => !enKeys.has(k));
      expect({ ns, missingInZh, missingInEn }).to.deep.equal({ ns, missingInZh: [], missingInEn: [] });
      // English plurals need "one" and "other"; Chinese uses only "other" (a "one" there is never read).
      for (const k of en.keys())
        if (k.endsWith("_one")) expect(en.has(k.replace(/_one$/, "_other")), `en ${ns}:${k} without _other`).to.equal(true);
      for (const k of [...en.keys()].filter((k) => PLURAL.test(k)))
        expect(zh.has(k.replace(PLURAL, "_other")), `zh ${ns}:${k}`).to.equal(true);
    }
  });

  it("has no empty text and the same placeholders in both languages", function () {
    for (const [ns, en] of byLang.en) {
      const zh = byLang.zh.get(ns)!;
      for (const [key, text] of en) {
        const zhText = zh.get(key) ?? zh.get(key.replace(PLURAL, "_other"));
        expect(text.trim(), `en ${ns}:${key}`).to.not.equal("");
        expect(zhText?.trim(), `zh ${ns}:${key}`).to.be.a("string").and.not.equal("");
        // "{{count}}" may be left out of a singular form ("one day"); every other placeholder is kept.
        const wanted = placeholders(text).filter((p) => p !== "count" || !key.endsWith("_one"));
        const got = placeholders(zhText ?? "").filter((p) => p !== "count" || !key.endsWith("_one"));
        expect(got, `placeholders of ${ns}:${key}`).to.deep.equal(wanted);
      }
    }
  });

  it("writes the Chinese texts in Chinese (no English sentence copied over)", function () {
    const english: string[] = [];
    for (const [ns, zh] of byLang.zh) {
      for (const [key, text] of zh) {
        const words = text
          .replace(/\{\{[^}]*\}\}/g, " ")
          .replace(/https?:\/\/\S*/g, " ")
          .replace(/<\/?\w+>/g, " ")
          .replace(KEPT_IN_CHINESE, " ")
          .match(/[A-Za-z]{3,}/g);
        if (words && !/[\u4e00-\u9fff]/.test(text)) english.push(`${ns}:${key} = ${text}`);
      }
    }
    expect(english).to.deep.equal([]);
  });

  it("names every metric, step, status and consent scope the service has, in both languages", function () {
    const [en, zh] = [byLang.en, byLang.zh];
    for (const d of METRIC_DEFINITIONS) {
      // The English name is the service's own; a new metric without a translation fails here.
      expect(en.get("metrics")?.get(`${d.key}.name`), `metric ${d.key}`).to.equal(d.name);
      expect(zh.get("metrics")?.get(`${d.key}.name`), `metric ${d.key}`).to.be.a("string");
      // A changed definition fails here until its Chinese text is brought up to date too.
      expect(en.get("metrics")?.get(`${d.key}.definition`), `definition of ${d.key}`).to.equal(d.definition);
      expect(zh.get("metrics")?.get(`${d.key}.definition`), `definition of ${d.key}`).to.be.a("string");
    }
    for (const [step, label] of Object.entries(STEP_LABELS)) {
      expect(en.get("common")?.get(`steps.${step}`), `step ${step}`).to.equal(label);
      expect(zh.get("common")?.get(`steps.${step}`), `step ${step}`).to.be.a("string");
      expect(en.get("common")?.has(`status.${step}`), `status ${step}`).to.equal(true);
    }
    for (const s of [...ORDER_STATUSES, ...RECEIVABLE_STATUSES, ...LOAN_STATUSES, "Pledged"].filter((x) => x !== "None")) {
      expect(en.get("common")?.has(`status.${s.toLowerCase()}`), `status ${s}`).to.equal(true);
    }
    for (const scope of Object.keys(SCOPE)) expect(en.get("common")?.has(`scopes.${scope}`), `scope ${scope}`).to.equal(true);
  });

  it("writes every message code the service sends beside its English (explanations, risk flags, errors), in both languages", function () {
    const explain = byLang.en.get("explain")!;
    const missing: string[] = [];
    const need = (key: string) => explain.has(key) || missing.push(key);
    for (const code of EXPLAIN_CODES.text.filter((c) => c !== "other")) need(`text.${code}`);
    for (const code of EXPLAIN_CODES.toChange) need(`toChange.${code}`);
    for (const code of FLAG_TEXT_CODES.text.filter((c) => c !== "other")) need(`flags.${code}`);
    for (const code of FLAG_TEXT_CODES.item) need(`items.${code}`);
    for (const code of DECISION_REASON_CODES.filter((c) => c !== "other")) need(`reasons.${code}`);
    for (const kind of Object.keys(ATTRIBUTE_KINDS)) need(`attributes.${kind}`);
    // The policy in force: its rules and scorecard factors by name.
    for (const rule of CURRENT_POLICY.hardRules) need(`rules.${rule.code}`);
    for (const factor of CURRENT_POLICY.scorecard.factors) need(`factors.${factor.code}`);
    expect(missing).to.deep.equal([]);
    // The textCodes of the service's errors, wherever they are thrown (every source file but those of the
    // explanations and risk flags, checked above), each have a text.
    const SERVICE_SRC = path.resolve(__dirname, "../../node-service/src");
    const notErrors = ["underwriting/explain.ts", "risk/screen.ts"].map((f) => path.join(SERVICE_SRC, f));
    const errorCodes = new Map<string, string>();
    for (const file of sourceFiles(SERVICE_SRC).filter((f) => !notErrors.includes(f)))
      for (const m of readFileSync(file, "utf8").matchAll(/textCode: "([a-z_]+)"/g)) errorCodes.set(m[1], path.relative(SERVICE_SRC, file));
    // The errors outside the application form too: sign-in, consents, documents, signatures, webhooks.
    for (const file of [
      "api/authorize.ts",
      "auth/siwe.ts",
      "api/routes/documents.ts",
      "documents/sniff.ts",
      "notifications/service.ts",
      "domain/errors.ts",
    ])
      expect([...errorCodes.values()], `codes thrown in ${file}`).to.include(file);
    expect(errorCodes.size).to.be.greaterThan(40);
    const noText = [...errorCodes].filter(([code]) => !explain.has(`errors.${code}`)).map(([code, file]) => `${file}: errors.${code}`);
    expect(noText).to.deep.equal([]);
  });

  it("writes every code of the evidence verifier's verdict (check names, details, time lines), in both languages", function () {
    const court = byLang.en.get("court")!;
    const missing = VERDICT_TEXT_CODES.filter((code) => !court.has(`verdictText.${code}`));
    expect(missing).to.deep.equal([]);
    // Parameter words the court page translates: the bundle format's roles, kinds and stamped values.
    for (const role of ["borrower", "lender", "debtor"]) expect(court.has(`verdictText.roles.${role}`), role).to.equal(true);
    for (const kind of BUNDLE_KINDS) expect(court.has(`verdictText.kinds.${kind}`), kind).to.equal(true);
    for (const of of BundleTimestampSchema.shape.of.options)
      expect(court.has(`verdictText.stamped.${of.replace(/ /g, "_")}`), of).to.equal(true);
  });

  it("writes every code of an evidence bundle's statements, their separators and the events they name, in both languages", function () {
    const court = byLang.en.get("court")!;
    const has = (key: string) => court.has(key) || court.has(`${key}_one`) || court.has(`${key}_other`);
    const missing = [
      ...STATEMENT_TEXT_CODES.map((code) => `statements.${code}`),
      ...STATEMENT_JOINS.map((join) => `statements.join.${join}`),
      "statements.party",
    ].filter((key) => !has(key));
    // The events a statement lists (an order's and a loan's later events), as the contracts declare them.
    for (const file of ["ITradeOrders.sol", "ILoanAgreements.sol"]) {
      const source = readFileSync(path.resolve(__dirname, "../../contracts/interfaces", file), "utf8");
      const events = [...source.matchAll(/\bevent\s+(\w+)\s*\(/g)].map((m) => m[1]);
      expect(events.length, file).to.be.greaterThan(3);
      missing.push(...events.map((e) => `statements.events.${e}`).filter((key) => !has(key)));
    }
    expect(missing).to.deep.equal([]);
  });

  it("has a text for every key the web code asks for", function () {
    const missing: string[] = [];
    let checked = 0;
    for (const file of sourceFiles(WEB_SRC)) {
      const code = readFileSync(file, "utf8");
      // const t = useT("lender"); const tc = tNs("common");
      // One variable may hold different namespaces in different functions of a file: a use takes the
      // namespace of the nearest declaration before it (functions follow one another in a file).
      const decls: { v: string; ns: string; at: number }[] = [];
      for (const m of code.matchAll(/\b(?:const|let)\s+(\w+)\s*=\s*(?:useT|tNs)\(\s*"([\w-]+)"\s*\)/g)) {
        decls.push({ v: m[1], ns: m[2], at: m.index ?? 0 });
      }
      const nsAt = (v: string, at: number) => decls.filter((d) => d.v === v && d.at < at).pop()?.ns;
      const vars = new Set(decls.map((d) => d.v));
      // <Trans t={t} i18nKey="tour.step1" /> uses the namespace of its t.
      const uses = (v: string) => [
        ...code.matchAll(new RegExp(`(?<![\\w.])${v}\\(\\s*"([^"]+)"`, "g")),
        ...code.matchAll(new RegExp(`<Trans\\s+t=\\{${v}\\}\\s+i18nKey="([^"]+)"`, "g")),
      ];
      for (const v of vars) {
        for (const m of uses(v)) {
          checked++;
          const ns = nsAt(v, m.index ?? 0) ?? "?";
          const [keyNs, key] = m[1].includes(":") ? m[1].split(":", 2) : [ns, m[1]];
          const texts = byLang.en.get(keyNs);
          const found = texts && (texts.has(key) || texts.has(`${key}_one`) || texts.has(`${key}_other`));
          if (!found) missing.push(`${path.relative(WEB_SRC, file)}: ${keyNs}:${key}`);
        }
      }
    }
    expect(missing).to.deep.equal([]);
    expect(checked, "keys found in the web code").to.be.greaterThan(0);
  });
});

describe("web UI formatting of amounts, dates and times for the locale", function () {
  it("shows minor units as major units with the currency: code in English, symbol in Chinese", function () {
    expect(formatAmountIn("en", 181356000n)).to.equal("CNY 1,813,560.00");
    expect(formatAmountIn("zh", "181356000")).to.equal("¥1,813,560.00");
    expect(formatAmountIn("en", "5")).to.equal("CNY 0.05");
    expect(formatAmountIn("en", 0n)).to.equal("CNY 0.00");
  });

  it("is exact beyond the range of floating point numbers, and for negative amounts", function () {
    expect(formatAmountIn("en", 1234567890123456789012345n)).to.equal("CNY 12,345,678,901,234,567,890,123.45");
    expect(formatAmountIn("en", -50n)).to.equal("-CNY 0.50");
    expect(formatAmountIn("zh", -181356001n)).to.equal("-¥1,813,560.01");
  });

  it("shows a missing amount as a dash", function () {
    expect(formatAmountIn("en", undefined)).to.equal("—");
    expect(formatAmountIn("zh", "")).to.equal("—");
  });

  it("gives date and time with the time zone, in each language", function () {
    const t = 1796000000; // 2026-11-30T00:53:20Z
    const en = formatDateTimeIn("en", t);
    const zh = formatDateTimeIn("zh", String(t));
    const zone = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
      .formatToParts(new Date(t * 1000))
      .find((p) => p.type === "timeZoneName")!.value;
    expect(en).to.include("2026").and.to.match(/[AP]M/);
    expect(zh).to.include("2026年");
    // The zone's name as the locale writes it (UTC, GMT+8, ...): present in both.
    expect(en).to.include(zone);
    expect(zh).to.match(/UTC|GMT|[\u4e00-\u9fff]+时间/);
    expect(formatDateIn("zh", t)).to.match(/^2026年1[12]月\d+日$/);
    expect(formatDateTimeIn("en", null)).to.equal("—");
  });
});
