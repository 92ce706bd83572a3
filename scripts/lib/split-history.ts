/**
 * A large chain history generated fast, for the benchmarks (bench:index, bench:reader): receivables
 * each split 3 levels deep into 16 children (one split = 34 events: ReceivableSplit, 16
 * ReceivableChildCreated, 16 mints and 1 burn), sent with automine off and mined in full blocks.
 * About 9,290 events per receivable split.
 */
import { encodeFunctionData, toHex, type Hex } from "viem";
import { abiOf } from "../../node-service/src/chain/contracts";
import { createDeliveredOrder, issueConfirmedReceivable, type HardhatNode, type Net, type Wallet } from "./chain-helpers";

/** Events one split receivable makes: its order and issue, then 273 splits of 34 events (measured: 11 -> 102,187). */
export const EVENTS_PER_ROOT = 9_290;
export const FANOUT = 16;
export const LEVELS = 3;
const LEAF_VALUE = 10n;

export async function rpc<T>(node: Pick<HardhatNode, "publicClient">, method: string, params: unknown[] = []): Promise<T> {
  return (await node.publicClient.request({ method, params } as never)) as T;
}

/**
 * Sends every split of one level with automine off (raw eth_sendTransaction: the node signs with its
 * unlocked account, nothing else to prepare) and mines full blocks every POOL transactions, keeping
 * the pool small.
 */
async function splitLevel(
  node: Pick<HardhatNode, "publicClient">,
  net: Net,
  supplier: Wallet,
  ids: bigint[],
  childValue: bigint,
  gas: bigint,
): Promise<void> {
  const values = Array<bigint>(FANOUT).fill(childValue);
  const holders = Array<Hex>(FANOUT).fill(supplier.account.address);
  const CONCURRENCY = 16;
  const POOL = 256;
  // One sender: transactions are mined in nonce order, so once the latest chunk is in, all are.
  const mineUntilIncluded = async (hashes: Hex[]) => {
    for (;;) {
      // Full blocks raise the base fee 12.5 % each: past ~1,000 of them (a million events) no balance pays it.
      await rpc(node, "hardhat_setNextBlockBaseFeePerGas", ["0x1"]);
      await rpc(node, "evm_mine");
      const receipts = await Promise.all(hashes.map((hash) => rpc<unknown>(node, "eth_getTransactionReceipt", [hash])));
      if (receipts.every((r) => r !== null)) return;
    }
  };
  let latest: Hex[] = [];
  for (let i = 0; i < ids.length; i += CONCURRENCY) {
    latest = await Promise.all(
      ids.slice(i, i + CONCURRENCY).map((id) =>
        rpc<Hex>(node, "eth_sendTransaction", [
          {
            from: supplier.account.address,
            to: net.deployment.contracts.Receivables,
            gas: toHex(gas),
            data: encodeFunctionData({ abi: abiOf("Receivables"), functionName: "split", args: [id, values, holders] }),
          },
        ]),
      ),
    );
    if ((i + CONCURRENCY) % POOL === 0) await mineUntilIncluded(latest);
  }
  await mineUntilIncluded(latest);
}

/**
 * `roots` receivables of `supplier` on `buyer` (each from a delivered order), each split LEVELS levels
 * deep into FANOUT children (nothing else may issue receivables meanwhile: ids are counted, not read).
 */
export async function splitReceivables(
  node: Pick<HardhatNode, "publicClient">,
  net: Net,
  p: { buyer: Wallet; supplier: Wallet; roots: number; tag: string; log?: (line: string) => void },
): Promise<void> {
  const { buyer, supplier } = p;
  const log = p.log ?? ((line: string) => console.log(line));
  const rootValue = LEAF_VALUE * BigInt(FANOUT ** LEVELS);
  let ids: bigint[] = [];
  for (let i = 0; i < p.roots; i++) {
    const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: rootValue });
    ids.push(
      (await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: rootValue, invoiceNumber: `${p.tag}-${i}` }))
        .receivableId,
    );
  }
  const gas =
    ((await net.publicClient.estimateContractGas({
      address: net.deployment.contracts.Receivables,
      abi: abiOf("Receivables"),
      functionName: "split",
      args: [ids[0], Array<bigint>(FANOUT).fill(rootValue / BigInt(FANOUT)), Array<Hex>(FANOUT).fill(supplier.account.address)],
      account: supplier.account,
    })) *
      12n) /
    10n;
  await rpc(node, "evm_setAutomine", [false]);
  // Receivable ids count up by one: the last root issued is the count so far, and each split's
  // children take the next ones (the splits are mined in nonce order).
  let count = ids[ids.length - 1];
  for (let level = 1, value = rootValue; level <= LEVELS; level++) {
    value /= BigInt(FANOUT);
    const t0 = performance.now();
    await splitLevel(node, net, supplier, ids, value, gas);
    const first = count + 1n;
    count += BigInt(ids.length * FANOUT);
    ids = Array.from({ length: ids.length * FANOUT }, (_, i) => first + BigInt(i));
    log(`  level ${level}: ${ids.length / FANOUT} splits mined in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await rpc(node, "evm_setAutomine", [true]);
}
