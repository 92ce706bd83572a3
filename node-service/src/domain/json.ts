/** bigint inside, decimal strings outside: the one helper for turning values into JSON-safe data. */

/** Deeply converts bigint values to decimal strings (for the API edge and the store file). */
export function toJsonSafe<T>(value: T): unknown {
  if (typeof value === "bigint") return value.toString(10);
  if (Array.isArray(value)) return value.map((v) => toJsonSafe(v));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[k] = toJsonSafe(v);
    }
    return out;
  }
  return value;
}

/** Parses a non-negative decimal string of minor units; throws on anything else. */
export function parseAmount(text: string): bigint {
  if (!/^(0|[1-9][0-9]{0,37})$/.test(text)) throw new Error(`not a decimal amount in minor units: ${JSON.stringify(text)}`);
  return BigInt(text);
}
