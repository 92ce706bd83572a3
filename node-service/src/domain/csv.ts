/**
 * RFC 4180 CSV, the one writer for every CSV the service produces: a field is quoted when it holds a
 * separator, a quote or a line break; lines end with CRLF. Amounts go in as `Money` and come out in
 * major units (see money.ts), so a CSV with amounts also carries a currency column.
 */
import { toMajor } from "./money";

/** An amount in minor units, written in major units. */
export class Money {
  constructor(readonly minor: bigint) {}
}

export type CsvCell = string | number | bigint | boolean | Money | null | undefined;

export function csvField(value: CsvCell): string {
  const text = value === undefined || value === null ? "" : value instanceof Money ? toMajor(value.minor) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly CsvCell[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}
