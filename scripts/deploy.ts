/**
 * Deploys the contract set to a running EVM JSON-RPC node and writes the deployment file.
 *
 *   npm run deploy -- --rpc http://127.0.0.1:8545 [--keystore FILE] [--operator 0x...] [--out FILE]
 *
 * Key: PRIVATE_KEY, or --keystore FILE with its password in KEYSTORE_PASSWORD; on a development chain
 * (chain id 31337) the node's first unlocked account. Idempotent: when the deployment file already
 * names contracts that have code on this chain (same chain id and genesis), it is reused, not redeployed.
 * Fees: GAS_PRICE (legacy), or MAX_FEE_PER_GAS and MAX_PRIORITY_FEE_PER_GAS (0 and 0 on a free-gas
 * chain); unset, the node's suggestion. A chain without the Cancun EVM is refused before any transaction.
 */
import { parseArgs } from "node:util";
import { isAddress, type Address } from "viem";
import { ensureDeployment } from "./lib/deployment-file";
import { publicClientFor, resolveAccount, walletClientFor } from "./lib/clients";
import { feeFieldsFromEnv } from "../node-service/src/chain/fees";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rpc: { type: "string" },
      keystore: { type: "string" },
      operator: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "usage: deploy.ts --rpc URL [--keystore FILE] [--operator ADDRESS] [--out FILE]\n  env: RPC_URL, PRIVATE_KEY, KEYSTORE_PASSWORD, DEPLOYMENT_FILE, GAS_PRICE or MAX_FEE_PER_GAS + MAX_PRIORITY_FEE_PER_GAS",
    );
    return;
  }
  const rpc = values.rpc ?? process.env.RPC_URL;
  if (!rpc) throw new Error("give the node's JSON-RPC URL with --rpc URL (or RPC_URL)");
  const file = values.out ?? process.env.DEPLOYMENT_FILE ?? "data/deployment.json";
  if (values.operator !== undefined && !isAddress(values.operator)) throw new Error(`--operator ${values.operator} is not an address`);

  const fees = feeFieldsFromEnv(process.env);
  const publicClient = await publicClientFor(rpc);
  const account = await resolveAccount(publicClient, {
    privateKey: process.env.PRIVATE_KEY,
    keystoreFile: values.keystore,
    keystorePassword: process.env.KEYSTORE_PASSWORD,
  });
  const walletClient = walletClientFor(publicClient, rpc, account);
  const { deployment, reused } = await ensureDeployment({
    publicClient,
    walletClient,
    file,
    operator: values.operator as Address | undefined,
    fees,
    log: (m) => console.log(m),
  });
  console.log(`${reused ? "reused" : "deployed"}: ${JSON.stringify(deployment.contracts)}`);
}

main().catch((err: unknown) => {
  console.error(`deploy failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
