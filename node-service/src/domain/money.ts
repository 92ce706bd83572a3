/**
 * Amounts for people: minor units (fen) of the settlement token, a digital yuan, shown as CNY in major
 * units with separators ("CNY 1,813,560.00"). Exact for any bigint; no floating point.
 */

/** The settlement token's currency code as shown. */
export const CURRENCY = "CNY";

/** 181356000n -> "CNY 1,813,560.00". */
export function formatMinor(minor: bigint | string): string {
  const v = BigInt(minor);
  const abs = v < 0n ? -v : v;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (abs % 100n).toString().padStart(2, "0");
  return `${v < 0n ? "-" : ""}${CURRENCY} ${whole}.${cents}`;
}

/** An amount in an error message: the formatted value first, then the raw minor units the API takes. */
export function describeMinor(minor: bigint | string): string {
  return `${formatMinor(minor)} (${BigInt(minor).toString()} minor units)`;
}
