/** Small readers for decoded event arguments, shared by the per-contract reducers. */
import type { Hex } from "viem";
import type { Address, IndexState } from "../../domain/entities";
import type { DecodedEvent } from "../decode";
import { push, type Mutation } from "../../domain/mutations";

/** A pure reducer: reads the state before the event, returns the mutations the event causes. */
export type Reducer = (state: Readonly<IndexState>, ev: DecodedEvent) => Mutation[];

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as Address;

/** An on-chain uint256 id as the index's decimal-string key. */
export function id(v: unknown): string {
  if (typeof v === "bigint" || typeof v === "number") return v.toString(10);
  throw new TypeError(`expected an integer id, got ${typeof v}`);
}

/** A small uint (times, codes, roles: at most 48 bits) as a number. */
export function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  throw new TypeError(`expected an integer, got ${typeof v}`);
}

/** An amount in minor units. */
export function big(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  throw new TypeError(`expected an amount, got ${typeof v}`);
}

export function addr(v: unknown): Address {
  if (typeof v !== "string") throw new TypeError(`expected an address, got ${typeof v}`);
  return v.toLowerCase() as Address;
}

export function hex(v: unknown): Hex {
  if (typeof v !== "string" || !v.startsWith("0x")) throw new TypeError(`expected hex, got ${typeof v}`);
  return v as Hex;
}

const ZERO_HASH = `0x${"0".repeat(64)}`;

/** Lists `recordId` under a document's hash in `coll` (lowercase; a zero hash, no document, is not listed). */
export function documentPush(coll: DocumentList, hash: Hex | undefined, recordId: string): Mutation[] {
  const key = hash?.toLowerCase();
  return key && key !== ZERO_HASH ? [push(coll, key, recordId)] : [];
}
type DocumentList = "ordersByShippingDocument" | "receivablesByInvoice" | "loansByDocument";

/** The name of a contract enum value, by index; index 0 ("None") and unknown indexes throw. */
export function enumName<T extends string>(names: readonly (T | "None")[], index: unknown, what: string): T {
  const s = names[num(index)];
  if (!s || s === "None") throw new Error(`unknown ${what} ${String(index)}`);
  return s as T;
}

/** Throws when an event refers to a record the index never saw: the index would be incomplete. */
export function must<T>(value: T | undefined, what: string, ev: DecodedEvent): T {
  if (value === undefined) {
    throw new Error(`${ev.name} at block ${ev.ref.blockNumber} (tx ${ev.ref.txHash}) refers to unknown ${what}`);
  }
  return value;
}
