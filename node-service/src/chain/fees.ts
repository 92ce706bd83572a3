/**
 * Transaction fees by configuration, for the service, the deploy script and the seed alike. Three
 * settings, read from the environment:
 *
 *   (none)                                      the node's suggestion (viem asks it), as on a public chain
 *   GAS_PRICE=wei                               legacy (type 0) transactions at that gas price
 *   MAX_FEE_PER_GAS=wei MAX_PRIORITY_FEE_PER_GAS=wei   EIP-1559 caps; 0 and 0 on a free-gas chain
 *
 * A free-gas chain (Besu with zeroBaseFee or min-gas-price 0, Anvil with --base-fee 0
 * --disable-min-priority-fee) suggests a fee cap of 0 with a 1 gwei tip, which no node accepts; the
 * caps make every sender pay exactly nothing there, and accounts need no balance.
 */
import { z } from "zod";

const wei = z
  .string()
  .regex(/^\d{1,78}$/, "must be a whole number of wei, in decimal")
  .transform((s) => BigInt(s));

/** The environment keys, with their one-line docs (the service's config schema includes them). */
export const FEE_ENV_SCHEMA = {
  GAS_PRICE: wei.optional().describe("Legacy gas price in wei for every transaction sent (type 0); exclusive with the two EIP-1559 caps."),
  MAX_FEE_PER_GAS: wei.optional().describe("EIP-1559 fee cap in wei (0 on a free-gas chain); set together with MAX_PRIORITY_FEE_PER_GAS."),
  MAX_PRIORITY_FEE_PER_GAS: wei.optional().describe("EIP-1559 priority fee cap in wei (0 on a free-gas chain); at most MAX_FEE_PER_GAS."),
};

/** The fields a transaction request carries: none (the node's suggestion), a legacy price, or 1559 caps. */
export type FeeFields =
  Record<string, never> | { type: "legacy"; gasPrice: bigint } | { type: "eip1559"; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

export interface FeeSettings {
  GAS_PRICE?: bigint;
  MAX_FEE_PER_GAS?: bigint;
  MAX_PRIORITY_FEE_PER_GAS?: bigint;
}

/** Why these settings do not make sense together (naming the key), or null. */
export function feeSettingsProblem(s: FeeSettings): { key: keyof FeeSettings; message: string } | null {
  const caps = s.MAX_FEE_PER_GAS !== undefined || s.MAX_PRIORITY_FEE_PER_GAS !== undefined;
  if (s.GAS_PRICE !== undefined && caps)
    return { key: "GAS_PRICE", message: "set either GAS_PRICE (legacy) or the EIP-1559 caps, not both" };
  if (s.MAX_FEE_PER_GAS !== undefined && s.MAX_PRIORITY_FEE_PER_GAS === undefined) {
    return { key: "MAX_PRIORITY_FEE_PER_GAS", message: "set it together with MAX_FEE_PER_GAS (0 on a free-gas chain)" };
  }
  if (s.MAX_FEE_PER_GAS === undefined && s.MAX_PRIORITY_FEE_PER_GAS !== undefined) {
    return { key: "MAX_FEE_PER_GAS", message: "set it together with MAX_PRIORITY_FEE_PER_GAS (0 on a free-gas chain)" };
  }
  if (s.MAX_FEE_PER_GAS !== undefined && s.MAX_PRIORITY_FEE_PER_GAS! > s.MAX_FEE_PER_GAS) {
    return { key: "MAX_PRIORITY_FEE_PER_GAS", message: "must not exceed MAX_FEE_PER_GAS" };
  }
  return null;
}

/** The request fields for these settings (settings already checked by feeSettingsProblem). */
export function feeFields(s: FeeSettings): FeeFields {
  if (s.GAS_PRICE !== undefined) return { type: "legacy", gasPrice: s.GAS_PRICE };
  if (s.MAX_FEE_PER_GAS !== undefined)
    return { type: "eip1559", maxFeePerGas: s.MAX_FEE_PER_GAS, maxPriorityFeePerGas: s.MAX_PRIORITY_FEE_PER_GAS ?? 0n };
  return {};
}

/** For the scripts: the fee fields from the environment, or an error naming the key. */
export function feeFieldsFromEnv(env: Record<string, string | undefined> = process.env): FeeFields {
  const input: Record<string, string> = {};
  for (const key of Object.keys(FEE_ENV_SCHEMA)) if (env[key] !== undefined && env[key] !== "") input[key] = env[key]!;
  const parsed = z.object(FEE_ENV_SCHEMA).safeParse(input);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const problem = feeSettingsProblem(parsed.data);
  if (problem) throw new Error(`${problem.key}: ${problem.message}`);
  return feeFields(parsed.data);
}

/** The same fields as JSON-RPC quantities, for a raw eth_sendTransaction. */
export function feeFieldsRpc(fees: FeeFields): Record<string, string> {
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  if ("gasPrice" in fees) return { type: "0x0", gasPrice: hex(fees.gasPrice) };
  if ("maxFeePerGas" in fees)
    return { type: "0x2", maxFeePerGas: hex(fees.maxFeePerGas), maxPriorityFeePerGas: hex(fees.maxPriorityFeePerGas) };
  return {};
}
