/**
 * The IndexState <-> JSON codec. JSON has no bigint, so amounts are written as decimal strings and
 * read back into bigint by field name. Only the collections that hold amounts are copied on
 * encode; everything else is written as is (an index of 100,000 anchors is not copied to be saved).
 */
import type { IndexState } from "../domain/entities";
import { parseAmount } from "../domain/json";
import type { RecordCollection, RecordCollections } from "../domain/mutations";

type Json = Record<string, unknown>;

/** The amount fields of each collection that holds amounts: top-level ones, and those of one nested list. */
interface AmountFields {
  fields: readonly string[];
  list?: { key: string; fields: readonly string[] };
}

const AMOUNTS = {
  orders: { fields: ["amount"] },
  receivables: { fields: ["faceValue", "paid", "paidByMaturity"], list: { key: "payments", fields: ["amount", "toLoan"] } },
  loans: { fields: ["principal", "totalDue", "repaid", "nonce"], list: { key: "repayments", fields: ["amount"] } },
  transfers: { fields: ["amount"] },
} as const satisfies Partial<Record<RecordCollection, AmountFields>>;
type AmountCollection = keyof typeof AMOUNTS;

const s = (v: unknown): string => (v as bigint).toString(10);
const b = (v: unknown): bigint => parseAmount(String(v));

/** A copy of `rec` with `f` applied to each of `fields` it holds (an optional amount may be absent). */
function convertFields(rec: Json, fields: readonly string[], f: (v: unknown) => unknown): Json {
  const out: Json = { ...rec };
  for (const k of fields) if (rec[k] !== undefined) out[k] = f(rec[k]);
  return out;
}

/** A copy of `rec` with `f` applied to each of its amount fields (per `spec`). */
function convert(rec: Json, spec: AmountFields, f: (v: unknown) => unknown): Json {
  const out = convertFields(rec, spec.fields, f);
  if (spec.list) {
    const { key, fields } = spec.list;
    out[key] = (rec[key] as Json[]).map((item) => convertFields(item, fields, f));
  }
  return out;
}

function specOf(coll: RecordCollection): AmountFields | undefined {
  return (AMOUNTS as Partial<Record<RecordCollection, AmountFields>>)[coll];
}

/** One record of a collection, JSON-safe. */
export function encodeRecord<C extends RecordCollection>(coll: C, value: RecordCollections[C]): unknown {
  const spec = specOf(coll);
  return spec ? convert(value as unknown as Json, spec, s) : value;
}

export function decodeRecord<C extends RecordCollection>(coll: C, json: unknown): RecordCollections[C] {
  const spec = specOf(coll);
  return (spec ? convert(json as Json, spec, b) : json) as RecordCollections[C];
}

function mapValues(rec: Record<string, unknown>, f: (v: Json) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in rec) out[k] = f(rec[k] as Json);
  return out;
}

/** Applies `f` to every amount of the collections that hold amounts; shares every other collection. */
function convertState(state: Json, f: (v: unknown) => unknown): Json {
  const out: Json = { ...state };
  for (const coll of Object.keys(AMOUNTS) as AmountCollection[]) {
    out[coll] = mapValues(state[coll] as Record<string, unknown>, (r) => convert(r, AMOUNTS[coll], f));
  }
  return out;
}

/** The state as JSON-safe data (shares every record that holds no amount). */
export function encodeIndexState(state: IndexState): Json {
  return convertState(state as unknown as Json, s);
}

export function decodeIndexState(json: Json): IndexState {
  return convertState(json, b) as unknown as IndexState;
}
