/**
 * Canonical JSON: object keys sorted, bigint as a decimal string, undefined members left out, no
 * whitespace. The same value always gives the same bytes, so their sha256 identifies a snapshot.
 */

export function canonicalJson(value: unknown): string {
  return write(value, "$");
}

function write(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "bigint":
      return JSON.stringify(value.toString(10));
    case "number":
      if (!Number.isFinite(value)) throw new Error(`canonical JSON cannot hold ${value} at ${path}`);
      return JSON.stringify(value);
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v, i) => (v === undefined ? "null" : write(v, `${path}[${i}]`))).join(",")}]`;
      const keys = Object.keys(value).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const v = (value as Record<string, unknown>)[k];
        if (v !== undefined) parts.push(`${JSON.stringify(k)}:${write(v, `${path}.${k}`)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new Error(`canonical JSON cannot hold a ${typeof value} at ${path}`);
  }
}
