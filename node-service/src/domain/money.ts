/**
 * Money in words: minor units (bigint) to major units with the currency, exact and the same on every
 * machine (no floating point, no locale data), for texts the service writes (reasons, errors, the
 * agreement document, evidence statements). Browser-safe. The web UI formats for the reader's locale.
 */

/** The settlement token of this network: a digital yuan with 2 decimals, written with its ISO code. */
export const CURRENCY = { code: "CNY", decimals: 2 } as const;

/** Thousands separator for the integer part ("1234567" -> "1,234,567"). */
function group(digits: string, sep: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/** Minor units as major units with the currency: 120000000n -> "CNY 1,200,000.00"; exact for any bigint. */
export function formatMoney(minor: bigint | string | number, currency: { code: string; decimals: number } = CURRENCY): string {
  const v = BigInt(minor);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const scale = 10n ** BigInt(currency.decimals);
  const whole = group((abs / scale).toString(), ",");
  const frac = currency.decimals > 0 ? `.${(abs % scale).toString().padStart(currency.decimals, "0")}` : "";
  return `${neg ? "-" : ""}${currency.code} ${whole}${frac}`;
}

/** For messages that mention an amount: the formatted value and the raw one, "CNY 1,200.00 (120000 minor units)". */
export function moneyWithRaw(minor: bigint | string | number): string {
  return `${formatMoney(minor)} (${BigInt(minor).toString()} minor units)`;
}

/** An amount for an API error body: { minor: "120000", formatted: "CNY 1,200.00" }. */
export function amountJson(minor: bigint | string | number): { minor: string; formatted: string } {
  return { minor: BigInt(minor).toString(), formatted: formatMoney(minor) };
}
