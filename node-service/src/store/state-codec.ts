/**
 * The IndexState <-> JSON codec. JSON has no bigint, so amounts are written as decimal strings and
 * read back into bigint by field name. Only the three collections that hold amounts are copied on
 * encode; everything else is written as is (an index of 100,000 anchors is not copied to be saved).
 */
import type { IndexState, LoanEntity, OrderEntity, ReceivableEntity } from "../domain/entities";
import { parseAmount } from "../domain/json";
import type { RecordCollection, RecordCollections } from "../indexer/mutations";

type Json = Record<string, unknown>;

const s = (v: bigint): string => v.toString(10);
const b = (v: unknown): bigint => parseAmount(String(v));

export function encodeOrder(o: OrderEntity): Json {
  return { ...o, amount: s(o.amount) };
}
export function decodeOrder(j: Json): OrderEntity {
  return { ...(j as unknown as OrderEntity), amount: b(j.amount) };
}

export function encodeReceivable(r: ReceivableEntity): Json {
  return {
    ...r,
    faceValue: s(r.faceValue),
    paid: s(r.paid),
    payments: r.payments.map((p) => ({ ...p, amount: s(p.amount), toLoan: s(p.toLoan) })),
  };
}
export function decodeReceivable(j: Json): ReceivableEntity {
  const r = j as unknown as ReceivableEntity;
  return {
    ...r,
    faceValue: b(j.faceValue),
    paid: b(j.paid),
    payments: r.payments.map((p) => ({ ...p, amount: b(p.amount), toLoan: b(p.toLoan) })),
  };
}

export function encodeLoan(l: LoanEntity): Json {
  return {
    ...l,
    principal: s(l.principal),
    totalDue: s(l.totalDue),
    repaid: s(l.repaid),
    nonce: s(l.nonce),
    repayments: l.repayments.map((r) => ({ ...r, amount: s(r.amount) })),
  };
}
export function decodeLoan(j: Json): LoanEntity {
  const l = j as unknown as LoanEntity;
  return {
    ...l,
    principal: b(j.principal),
    totalDue: b(j.totalDue),
    repaid: b(j.repaid),
    nonce: b(j.nonce),
    repayments: l.repayments.map((r) => ({ ...r, amount: b(r.amount) })),
  };
}

const RECORD_CODECS: Partial<Record<RecordCollection, { encode: (v: never) => Json; decode: (j: Json) => unknown }>> = {
  orders: { encode: encodeOrder, decode: decodeOrder },
  receivables: { encode: encodeReceivable, decode: decodeReceivable },
  loans: { encode: encodeLoan, decode: decodeLoan },
};

/** One record of a collection, JSON-safe. */
export function encodeRecord<C extends RecordCollection>(coll: C, value: RecordCollections[C]): unknown {
  const codec = RECORD_CODECS[coll];
  return codec ? codec.encode(value as never) : value;
}

export function decodeRecord<C extends RecordCollection>(coll: C, json: unknown): RecordCollections[C] {
  const codec = RECORD_CODECS[coll];
  return (codec ? codec.decode(json as Json) : json) as RecordCollections[C];
}

function mapValues<T>(rec: Record<string, T>, f: (v: T) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in rec) out[k] = f(rec[k]);
  return out;
}

/** The state as JSON-safe data (shares every record that holds no amount). */
export function encodeIndexState(state: IndexState): Json {
  return {
    ...state,
    orders: mapValues(state.orders, encodeOrder),
    receivables: mapValues(state.receivables, encodeReceivable),
    loans: mapValues(state.loans, encodeLoan),
  };
}

export function decodeIndexState(json: Json): IndexState {
  const st = json as unknown as IndexState;
  return {
    ...st,
    orders: mapValues(json.orders as Record<string, Json>, decodeOrder) as IndexState["orders"],
    receivables: mapValues(json.receivables as Record<string, Json>, decodeReceivable) as IndexState["receivables"],
    loans: mapValues(json.loans as Record<string, Json>, decodeLoan) as IndexState["loans"],
  };
}
