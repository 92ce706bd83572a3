/**
 * Amounts, dates and times are formatted for the current language by web/src/i18n (one place for each):
 * re-exported here for the code that imports them from format.ts.
 */
export { formatAmount, formatDate, formatDateTime } from "./i18n";
import { formatAmount, formatNumber, tNs } from "./i18n";

/** Parses "1,234.56" or "1234.5" into minor units; null when not a valid amount. */
export function parseAmountInput(text: string): bigint | null {
  const clean = text.replace(/[\s,¥￥]|CNY|RMB|元/gi, "");
  const m = /^(\d{1,26})(?:\.(\d{1,2}))?$/.exec(clean);
  if (!m) return null;
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? "").padEnd(2, "0"));
}

export function minorToInput(minor: string | bigint): string {
  const v = BigInt(minor);
  return `${v / 100n}.${(v % 100n).toString().padStart(2, "0")}`;
}

export function shortHex(hex: string | undefined, n = 6): string {
  if (!hex) return "—";
  return hex.length > 2 * n + 2 ? `${hex.slice(0, n + 2)}…${hex.slice(-n)}` : hex;
}

export function formatMetric(value: unknown, unit: string): string {
  if (value === null || value === undefined) return "—";
  if (unit === "minor_units") return formatAmount(String(value));
  const n = Number(value);
  const t = tNs("common");
  if (unit === "ratio") return t("units.percent", { value: (n * 100).toFixed(1) });
  if (unit === "percent") return t("units.percent", { value: n.toFixed(1) });
  if (unit === "days") return t("units.days", { value: n.toFixed(1) });
  if (unit === "hhi") return n.toFixed(3);
  return formatNumber(n);
}

/** An annual rate in basis points as a percentage: 650 -> "6.50 %" ("6.50%" in Chinese). */
export function formatRate(bps: number | string): string {
  return tNs("common")("units.percent", { value: (Number(bps) / 100).toFixed(2) });
}
