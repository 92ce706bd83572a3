/**
 * Checks an evidence bundle against any JSON-RPC node, without the service:
 *   npx ts-node --transpile-only scripts/verify-evidence.ts BUNDLE.json [FILE...] --rpc URL [--deployment deployment.json]
 * Prints one PASS/FAIL line per check and the verdict; exits 0 when every check passes, 1 when any
 * fails, 2 on a usage error. --deployment pins the contract addresses the consortium published.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { createPublicClient, http, type Address } from "viem";
import type { ContractName } from "../node-service/src/chain/contracts";
import { formatVerdict, verifyBundle } from "../node-service/src/evidence/verify";

const USAGE = "usage: verify-evidence BUNDLE.json [FILE...] --rpc URL [--deployment deployment.json]";

async function main(argv: string[]): Promise<number> {
  const positional: string[] = [];
  let rpc: string | undefined;
  let deploymentFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--rpc") rpc = argv[++i];
    else if (a.startsWith("--rpc=")) rpc = a.slice(6);
    else if (a === "--deployment") deploymentFile = argv[++i];
    else if (a.startsWith("--deployment=")) deploymentFile = a.slice(13);
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      return 0;
    } else positional.push(a);
  }
  if (!rpc || positional.length === 0) {
    console.error(USAGE);
    return 2;
  }
  const [bundleFile, ...files] = positional;
  let bundle: unknown;
  try {
    bundle = JSON.parse(readFileSync(bundleFile, "utf8"));
  } catch (err) {
    console.error(`cannot read the bundle ${bundleFile}: ${(err as Error).message}`);
    return 2;
  }
  const expectedContracts = deploymentFile
    ? (JSON.parse(readFileSync(deploymentFile, "utf8")) as { contracts: Partial<Record<ContractName, Address>> }).contracts
    : undefined;
  const publicClient = createPublicClient({ transport: http(rpc, { retryCount: 1, timeout: 20_000 }) });
  const verdict = await verifyBundle({
    bundle,
    publicClient,
    files: files.map((f) => ({ name: path.basename(f), bytes: readFileSync(f) })),
    expectedContracts,
  });
  console.log(`Evidence bundle ${bundleFile} checked against ${rpc}\n`);
  console.log(formatVerdict(verdict));
  return verdict.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
