/**
 * Why the chain refused a call, in one line: the contract's custom error decoded with the ABIs of
 * every project contract (an error raised by a contract the call went through is decoded too), as
 * `Name(arg, arg)`. viem's own message keeps only "reverted with the following signature:" when the
 * called contract's ABI lacks the error, and its first line is all an API answer can carry.
 */
import { BaseError, decodeErrorResult, type Abi, type AbiParameter, type Hex } from "viem";
import { CONTRACT_NAMES, abiOf } from "./contracts";
import { moneyWithRaw } from "../domain/money";

let errorAbi: Abi | undefined;

/** Every `error` item of the project's contracts, once each. */
function allErrors(): Abi {
  if (!errorAbi) {
    const seen = new Set<string>();
    const items: Abi[number][] = [];
    for (const name of CONTRACT_NAMES) {
      for (const item of abiOf(name)) {
        if (item.type !== "error") continue;
        const key = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
        if (!seen.has(key)) items.push(item);
        seen.add(key);
      }
    }
    errorAbi = items;
  }
  return errorAbi;
}

/** Custom-error arguments that are amounts of the settlement token (minor units): shown raw and formatted. */
const AMOUNT_PARAMS = new Set(["amount", "outstanding", "available", "faceValue", "sum", "paid", "principal"]);

function formatArg(value: unknown, param?: AbiParameter): string {
  if (typeof value === "bigint" && param?.name && AMOUNT_PARAMS.has(param.name)) return `${param.name} ${moneyWithRaw(value)}`;
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map((v) => formatArg(v)).join(", ")}]`;
  if (value && typeof value === "object") return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  return String(value);
}

/** `Name(arg, …)` for revert data of one of the project's errors, else null. */
export function decodeRevertData(data: Hex): string | null {
  if (!data || data === "0x" || data.length < 10) return null;
  try {
    const { errorName, args, abiItem } = decodeErrorResult({ abi: allErrors(), data });
    const inputs = (abiItem as { inputs?: readonly AbiParameter[] }).inputs ?? [];
    const list = (args ?? []) as readonly unknown[];
    if (errorName === "Error") return `Error(${JSON.stringify(list[0])})`;
    return `${errorName}(${list.map((a, i) => formatArg(a, inputs[i])).join(", ")})`;
  } catch {
    return null;
  }
}

/** The revert data carried anywhere along an error's cause chain. */
function revertDataOf(err: unknown): Hex | undefined {
  for (let e = err as { data?: unknown; raw?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; depth++) {
    if (typeof e.raw === "string" && e.raw.startsWith("0x")) return e.raw as Hex;
    if (typeof e.data === "string" && e.data.startsWith("0x")) return e.data as Hex;
    if (e.data && typeof e.data === "object" && typeof (e.data as { data?: unknown }).data === "string")
      return (e.data as { data: Hex }).data;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * One line for a failed send or call: the decoded custom error when there is revert data, else viem's
 * short message (the first line, without the docs link and version footer).
 */
export function describeChainError(err: unknown): string {
  const data = revertDataOf(err);
  const decoded = data ? decodeRevertData(data) : null;
  if (decoded) return `reverted with ${decoded}`;
  if (err instanceof BaseError) {
    const named = err.walk((e) => typeof (e as { data?: { errorName?: unknown } }).data?.errorName === "string") as {
      data?: { errorName: string; args?: unknown[] };
    } | null;
    if (named?.data) return `reverted with ${named.data.errorName}(${(named.data.args ?? []).map((a) => formatArg(a)).join(", ")})`;
    return (err.details && err.shortMessage.length < 40 ? `${err.shortMessage} ${err.details}` : err.shortMessage).split("\n")[0];
  }
  return err instanceof Error ? err.message.split("\n")[0] : String(err);
}
