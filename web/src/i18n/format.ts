/**
 * Locale-aware formatting of amounts, dates and numbers for a given language: pure functions, no React,
 * no bundler (the unit tests import them). The UI calls the wrappers in ./index.ts, which pass the
 * current language.
 */
import { toMajor } from "../../../node-service/src/domain/money";

export type Language = "en" | "zh";
/** The locale each language formats numbers and dates with. */
export const INTL_LOCALE: Record<Language, string> = { en: "en-US", zh: "zh-CN" };

/** Seconds since 1970 (block time), as a number, a decimal string or a bigint. */
export type Seconds = number | string | bigint | null | undefined;

/** No-break spaces that Intl puts between parts become plain spaces: the text reads and searches the same everywhere. */
const plainSpaces = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

const moneyFormats = new Map<string, Intl.NumberFormat>();
function moneyFormat(lang: Language, currency: string): Intl.NumberFormat {
  const key = `${lang}:${currency}`;
  let f = moneyFormats.get(key);
  if (!f) {
    // English names the currency by its ISO code (CNY 1,813,560.00), which no reader confuses with yen;
    // Chinese by its symbol (¥1,813,560.00), which in Chinese is the yuan.
    f = new Intl.NumberFormat(INTL_LOCALE[lang], { style: "currency", currency, currencyDisplay: lang === "zh" ? "symbol" : "code" });
    moneyFormats.set(key, f);
  }
  return f;
}

/**
 * An amount in minor units (bigint, or its decimal string as the API sends it) in major units with its
 * currency: "CNY 1,813,560.00" in English, "¥1,813,560.00" in Chinese. Exact for any size (Intl formats
 * the decimal string, never a float). Empty input is shown as "—".
 */
export function formatAmountIn(lang: Language, minor: bigint | string | null | undefined, currency = "CNY"): string {
  if (minor === null || minor === undefined || minor === "") return "—";
  const f = moneyFormat(lang, currency);
  // The one exact minor-to-major conversion (node-service/src/domain/money.ts, browser-safe), then Intl for the locale.
  const decimal = toMajor(BigInt(minor), { decimals: f.resolvedOptions().maximumFractionDigits ?? 2 });
  // Intl takes a decimal string exactly (Intl.NumberFormat v3); its type says number.
  return plainSpaces(f.format(decimal as unknown as number));
}

function toDate(seconds: Seconds): Date | undefined {
  if (seconds === null || seconds === undefined || seconds === "") return undefined;
  return new Date(Number(seconds) * 1000);
}

/** A moment (seconds since 1970, as on chain) as date and time with the time zone: "Nov 30, 2026, 12:53:20 AM UTC". */
export function formatDateTimeIn(lang: Language, seconds: Seconds): string {
  const d = toDate(seconds);
  if (!d) return "—";
  return plainSpaces(new Intl.DateTimeFormat(INTL_LOCALE[lang], { dateStyle: "medium", timeStyle: "long" }).format(d));
}

/** A day (seconds since 1970, as on chain): "Nov 30, 2026" / "2026年11月30日". */
export function formatDateIn(lang: Language, seconds: Seconds): string {
  const d = toDate(seconds);
  if (!d) return "—";
  return new Intl.DateTimeFormat(INTL_LOCALE[lang], { dateStyle: "medium" }).format(d);
}

/** A plain number with the language's separators. */
export function formatNumberIn(lang: Language, n: number | bigint, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(INTL_LOCALE[lang], options).format(n);
}
