/**
 * Exact arithmetic for the metrics: every ratio, mean and index is computed from integers (bigint)
 * and rounded once, half away from zero, so a lender re-deriving a figure by hand gets the same digits.
 */

import { DAY } from "../domain/time";

/** num / den rounded half away from zero to `decimals` places; den must be positive. */
export function roundDiv(num: bigint, den: bigint, decimals: number): number {
  if (den <= 0n) throw new RangeError("roundDiv: denominator must be positive");
  const scale = 10n ** BigInt(decimals);
  const abs = num < 0n ? -num : num;
  const q = (2n * abs * scale + den) / (2n * den);
  const signed = num < 0n ? -q : q;
  return Number(signed) / Number(scale);
}

/** A ratio rounded to 4 decimals, or null when nothing is counted in the denominator. */
export function ratio(num: bigint | number, den: bigint | number): number | null {
  const d = BigInt(den);
  return d === 0n ? null : roundDiv(BigInt(num), d, 4);
}

/** Mean of durations in seconds, as days rounded to 2 decimals; null for an empty list. */
export function meanDays(seconds: readonly number[]): number | null {
  if (seconds.length === 0) return null;
  const sum = seconds.reduce((s, x) => s + BigInt(x), 0n);
  return roundDiv(sum, BigInt(seconds.length) * BigInt(DAY), 2);
}

/** One duration in seconds as days rounded to 2 decimals. */
export function days(seconds: number): number {
  return roundDiv(BigInt(seconds), BigInt(DAY), 2);
}

/** Nearest-rank percentile (the ceil(p * n)-th smallest value); null for an empty list. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1];
}

/** Integer square root: the largest r with r * r <= n. */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("isqrt of a negative number");
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Newton steps from the float estimate, then settle exactly.
  for (;;) {
    const y = (x + n / x) / 2n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

/**
 * Coefficient of variation (population standard deviation / mean) of non-negative amounts, rounded
 * to 4 decimals exactly: CV = sqrt(n * sum(x^2) - sum(x)^2) / sum(x). Null when the sum is 0.
 */
export function coefficientOfVariation(values: readonly bigint[]): number | null {
  const n = BigInt(values.length);
  const sum = values.reduce((s, x) => s + x, 0n);
  if (sum === 0n) return null;
  const sumSq = values.reduce((s, x) => s + x * x, 0n);
  const d = n * sumSq - sum * sum;
  // round(sqrt(d) * 10^4 / sum) = floor((isqrt(4 * d * 10^8) + sum) / (2 * sum))
  const q = (isqrt(4n * d * 10n ** 8n) + sum) / (2n * sum);
  return Number(q) / 10_000;
}

/** Herfindahl-Hirschman index on the 0-1 scale (sum of squared shares), rounded to 4 decimals. */
export function hhi(amounts: readonly bigint[]): number | null {
  const total = amounts.reduce((s, x) => s + x, 0n);
  if (total === 0n) return null;
  const sumSq = amounts.reduce((s, x) => s + x * x, 0n);
  return roundDiv(sumSq, total * total, 4);
}
