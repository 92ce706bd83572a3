/**
 * Money at the edges that people read (CSV files, printed tables): the settlement token's ISO code and
 * exact major units from bigint minor units. The token has 2 decimals and stands for a digital yuan,
 * so the code is CNY. Computation stays in bigint minor units; this only formats.
 */

/** ISO 4217 code of the settlement token the network's amounts are in. */
export const CURRENCY = "CNY";
/** Decimals of the settlement token: 100 minor units (fen) make one major unit (yuan). */
export const MINOR_DIGITS = 2;

/** Exact major units, no grouping, `.` as the decimal point: 12345n -> "123.45", -5n -> "-0.05". */
export function toMajor(minor: bigint): string {
  const neg = minor < 0n;
  const abs = neg ? -minor : minor;
  const scale = 10n ** BigInt(MINOR_DIGITS);
  const text = `${abs / scale}.${(abs % scale).toString().padStart(MINOR_DIGITS, "0")}`;
  return neg ? `-${text}` : text;
}
