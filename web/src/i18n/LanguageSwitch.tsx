/** The language switch of the top bar: each language named in itself; the choice is remembered. */
import { LANGUAGES, setLanguage, useLanguage, useT, type Language } from "./index";

export function LanguageSwitch() {
  const t = useT("common");
  const lang = useLanguage();
  return (
    <select className="language" aria-label={t("language.label")} value={lang} onChange={(e) => setLanguage(e.target.value as Language)}>
      {LANGUAGES.map((l) => (
        <option key={l.code} value={l.code} lang={l.code === "zh" ? "zh-CN" : "en"}>
          {l.label}
        </option>
      ))}
    </select>
  );
}
