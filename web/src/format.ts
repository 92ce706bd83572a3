/** Amounts are minor units (2 decimals) of the settlement token; shown with currency and separators. */
// The settlement token is a digital yuan (dCNY): shown with the ISO code, which no locale confuses with yen.
const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "CNY", currencyDisplay: "code", minimumFractionDigits: 2 });

export function formatAmount(minor: string | bigint | null | undefined): string {
  if (minor === null || minor === undefined || minor === "") return "—";
  const v = BigInt(minor);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const whole = abs / 100n;
  const cents = abs % 100n;
  // Intl formats the whole part (safe up to 2^53 units); cents are appended exactly from the bigint.
  const parts = money.formatToParts(Number(whole));
  const out = parts.map((p) => (p.type === "fraction" ? cents.toString().padStart(2, "0") : p.value)).join("");
  return neg ? `-${out}` : out;
}

/** Parses "1,234.56" or "1234.5" into minor units; null when not a valid amount. */
export function parseAmountInput(text: string): bigint | null {
  const clean = text.replace(/[\s,¥]/g, "");
  const m = /^(\d{1,26})(?:\.(\d{1,2}))?$/.exec(clean);
  if (!m) return null;
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? "").padEnd(2, "0"));
}

export function minorToInput(minor: string | bigint): string {
  const v = BigInt(minor);
  return `${v / 100n}.${(v % 100n).toString().padStart(2, "0")}`;
}

export function formatDate(seconds: number | string | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  return new Date(Number(seconds) * 1000).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function formatDateTime(seconds: number | string | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  return new Date(Number(seconds) * 1000).toLocaleString();
}

export function shortHex(hex: string | undefined, n = 6): string {
  if (!hex) return "—";
  return hex.length > 2 * n + 2 ? `${hex.slice(0, n + 2)}…${hex.slice(-n)}` : hex;
}

export function formatMetric(value: unknown, unit: string): string {
  if (value === null || value === undefined) return "—";
  if (unit === "minor_units") return formatAmount(String(value));
  const n = Number(value);
  if (unit === "ratio") return `${(n * 100).toFixed(1)} %`;
  if (unit === "percent") return `${n.toFixed(1)} %`;
  if (unit === "days") return `${n.toFixed(1)} d`;
  if (unit === "hhi") return n.toFixed(3);
  return n.toLocaleString();
}

/** An annual rate in basis points as a percentage: 650 -> "6.50 %". */
export function formatRate(bps: number | string): string {
  return `${(Number(bps) / 100).toFixed(2)} %`;
}
