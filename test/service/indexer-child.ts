/**
 * A standalone indexer process for the restart test: indexes the chain at RPC_URL for the deployment in
 * DEPLOYMENT_FILE into DATA_DIR, committing after every range, printing "batch <from> <to>" per commit
 * and "done <block>" at the end. The test kills it with SIGKILL mid-sync and starts it again.
 *
 *   node -r ts-node/register/transpile-only test/service/indexer-child.ts <rpcUrl> <deployment.json> <dataDir> <maxBlockRange>
 */
import { readFileSync } from "node:fs";
import pino from "pino";
import { createPublicClient, http, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import type { Deployment } from "../../node-service/src/chain/contracts";
import { createIndexer } from "../../node-service/src/indexer/indexer";

async function main(): Promise<void> {
  const [rpcUrl, deploymentFile, dataDir, maxBlockRange] = process.argv.slice(2);
  const deployment = JSON.parse(readFileSync(deploymentFile, "utf8")) as Deployment;
  const publicClient = createPublicClient({ chain: hardhat, transport: http(rpcUrl) }) as PublicClient;
  const indexer = await createIndexer({
    publicClient,
    deployment,
    dataDir,
    maxBlockRange: Number(maxBlockRange),
    commitIntervalMs: 0,
    maxWriteShare: 1,
    logger: pino({ level: "silent" }),
  });
  indexer.on("batch", (b) => process.stdout.write(`batch ${b.fromBlock} ${b.toBlock}\n`));
  await indexer.syncOnce();
  await indexer.stop();
  process.stdout.write(`done ${indexer.checkpoint()?.blockNumber}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
