/**
 * What the browser tests need to check a page in one language: the UI's own texts, read from the web
 * app's resources (web/src/i18n/locales/{en,zh}/<namespace>.json), and the English words left on a page
 * meant to be in Chinese. Used by cover.e2e and i18n.e2e.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { REPO_ROOT } from "./nav-helpers";

export type Lang = "en" | "zh";

const resources = new Map<string, Record<string, unknown>>();

/**
 * The UI's text for `key` ("namespace:dotted.key") in `lang`, its {{placeholders}} filled from `vars`:
 * what the page must show, straight from the resources the app is built with.
 */
export function say(lang: Lang, key: string, vars: Record<string, string | number> = {}): string {
  const [ns, dotted] = key.split(":");
  const file = `${lang}/${ns}`;
  if (!resources.has(file)) {
    resources.set(file, JSON.parse(readFileSync(path.join(REPO_ROOT, "web/src/i18n/locales", `${file}.json`), "utf8")));
  }
  let value: unknown = resources.get(file);
  for (const part of dotted.split(".")) value = (value as Record<string, unknown> | undefined)?.[part];
  if (typeof value !== "string") throw new Error(`no text for ${key} in ${lang}`);
  return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`${key} needs {{${name}}}`);
    return String(vars[name]);
  });
}

/** Latin words that stay as they are in Chinese text: codes, standards and file formats. */
const KEPT = /\b(CNY|CSV|JSON|JSON-RPC|RPC|API|KYC|HHI|DSO|EIP-712|ERC-1271|PEM|DER|sha256|LoanAgreements|HTML|UTC|GMT)\b/g;

/**
 * English words left on a page meant to be in Chinese: the visible text (and the options, labels for
 * assistive technology and placeholders), less what is not language: participants' `names`, codes
 * (<code>), texts the service writes in English and the page marks lang="en", addresses, numbers, HTTP
 * resources and the codes in KEPT. One line per text, labelled `where`.
 */
export async function englishLeft(page: Page, where: string, names: string[]): Promise<string[]> {
  const texts = await page.evaluate(() => {
    const out: string[] = [];
    const skip = (el: Element | null) => !!el?.closest('[lang="en"], code, script, style, pre');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      const text = n.textContent?.trim();
      if (!text || !el || skip(el)) continue;
      if (el.closest("option") || el.checkVisibility()) out.push(text);
    }
    for (const el of Array.from(document.querySelectorAll("[aria-label], [placeholder], [title]"))) {
      if (skip(el)) continue;
      for (const a of ["aria-label", "placeholder", "title"]) {
        const v = el.getAttribute(a);
        if (v) out.push(v);
      }
    }
    return out;
  });
  const left: string[] = [];
  for (const text of texts) {
    let rest = text;
    for (const name of names) rest = rest.split(name).join(" ");
    rest = rest
      .replace(/0x[0-9a-fA-F]+(…[0-9a-fA-F]+)?/g, " ")
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, " ")
      .replace(/\b(GET|POST) \/\S*/g, " ")
      // A URL, or only its scheme (the webhook field's placeholder "https://").
      .replace(/https?:\/\/\S*/g, " ")
      // Field names the metric definitions refer to (createdAt, orderValue): identifiers, not English.
      .replace(/\b[a-z]+[A-Z][A-Za-z0-9]*\b/g, " ")
      .replace(KEPT, " ");
    const words = rest.match(/[A-Za-z]{3,}/g);
    if (words) left.push(`${where}: “${text}” (${words.join(", ")})`);
  }
  return left;
}
