/// <reference types="vite/client" />
/**
 * Simplified Chinese and English for the web UI (i18next + react-i18next).
 *
 * Resources: web/src/i18n/locales/{en,zh}/<namespace>.json, one namespace per area (common, court,
 * manufacturer, lender, apply, loan, portfolio, nav, names, ...). A new namespace is a new pair of files:
 * they are picked up here by the bundler, nothing to register. Both languages must have the same keys
 * (test/web/i18n.test.ts checks it).
 *
 * The language: what the user chose in the top bar (remembered in localStorage), else the browser's
 * language, else English. Amounts, dates and times are formatted for the current language.
 */
import i18next from "i18next";
import LanguageDetector from "i18next-browser-languagedetector";
import { initReactI18next, useTranslation } from "react-i18next";

/** Rich text with markup: <Trans t={t} i18nKey="..." components={{ b: <strong /> }} />. */
export { Trans } from "react-i18next";
import { formatAmountIn, formatDateIn, formatDateTimeIn, formatNumberIn, INTL_LOCALE, type Language, type Seconds } from "./format";

export type { Language } from "./format";

/** The languages offered in the switch, each named in itself. */
export const LANGUAGES: readonly { code: Language; label: string }[] = [
  { code: "en", label: "English" },
  { code: "zh", label: "简体中文" },
];
/** Where the user's choice is remembered. */
export const LANGUAGE_STORAGE_KEY = "scf.language";

type Resources = Record<string, Record<string, Record<string, unknown>>>;
const files = import.meta.glob<Record<string, unknown>>("./locales/*/*.json", { eager: true, import: "default" });
const resources: Resources = {};
for (const [file, content] of Object.entries(files)) {
  const m = /\/locales\/([a-z]+)\/([\w-]+)\.json$/.exec(file);
  if (!m) continue;
  (resources[m[1]] ??= {})[m[2]] = content;
}

export const i18n = i18next.createInstance();
void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources,
    ns: Object.keys(resources.en ?? {}),
    defaultNS: "common",
    supportedLngs: LANGUAGES.map((l) => l.code),
    nonExplicitSupportedLngs: true,
    load: "languageOnly",
    fallbackLng: "en",
    initAsync: false,
    // React escapes what it renders.
    interpolation: { escapeValue: false },
    returnNull: false,
    detection: { order: ["localStorage", "navigator"], lookupLocalStorage: LANGUAGE_STORAGE_KEY, caches: [] },
    // A key missing from every language is a bug: said on the console, which the browser tests fail on.
    saveMissing: true,
    missingKeyHandler: (_lngs, ns, key) => console.error(`i18n: no text for "${ns}:${key}"`),
  });

function syncDocumentLanguage(): void {
  if (typeof document !== "undefined") document.documentElement.lang = INTL_LOCALE[currentLanguage()];
}
i18n.on("languageChanged", syncDocumentLanguage);
syncDocumentLanguage();

/** The language in use: "en" or "zh". */
export function currentLanguage(): Language {
  return i18n.resolvedLanguage === "zh" ? "zh" : "en";
}

/** Switches the language and remembers the choice for the next visit. */
export function setLanguage(lang: Language): void {
  try {
    localStorage.setItem(LANGUAGE_STORAGE_KEY, lang);
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
  void i18n.changeLanguage(lang);
}

/** The translation function of one namespace; the component re-renders when the language changes. */
export function useT(namespace: string) {
  return useTranslation(namespace, { i18n }).t;
}

/** The current language, re-rendering on change (for components that format but do not translate). */
export function useLanguage(): Language {
  useTranslation(undefined, { i18n });
  return currentLanguage();
}

/**
 * A text the code may or may not have a translation for (a status, step or metric named by the service,
 * which can add new ones): the translation when there is one, else the service's own words, without
 * reporting a missing key. Use `t` for the UI's own texts, so a missing one is reported.
 */
export function translateKnown(namespace: string, key: string, fallback: string, options?: Record<string, unknown>): string {
  return i18n.exists(key, { ns: namespace }) ? String(i18n.t(key, { ns: namespace, ...options })) : fallback;
}

/** The translation function of one namespace outside React (error messages built in plain functions). */
export function tNs(namespace: string) {
  return i18n.getFixedT(null, namespace);
}

/**
 * An amount in minor units (bigint, or its decimal string as the API sends it) in major units with its
 * currency, for the current language: "CNY 1,813,560.00" in English, "¥1,813,560.00" in Chinese. Exact
 * for any size. Empty input is shown as "—".
 */
export function formatAmount(minor: bigint | string | null | undefined, currency = "CNY", lang: Language = currentLanguage()): string {
  return formatAmountIn(lang, minor, currency);
}

/** A moment (seconds since 1970, as on chain) as date and time with the time zone: "Nov 30, 2026, 12:53:20 AM UTC". */
export function formatDateTime(seconds: Seconds, lang: Language = currentLanguage()): string {
  return formatDateTimeIn(lang, seconds);
}

/** A day (seconds since 1970, as on chain): "Nov 30, 2026" / "2026年11月30日". */
export function formatDate(seconds: Seconds, lang: Language = currentLanguage()): string {
  return formatDateIn(lang, seconds);
}

/** A plain number with the language's separators. */
export function formatNumber(n: number | bigint, options?: Intl.NumberFormatOptions, lang: Language = currentLanguage()): string {
  return formatNumberIn(lang, n, options);
}
