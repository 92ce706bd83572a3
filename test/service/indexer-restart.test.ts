import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import { parseIndex, type StoredIndex } from "../../node-service/src/store/index-store";
import { encodeIndexState } from "../../node-service/src/store/state-codec";
import { generateHistory, startHardhatNode, type HardhatNode, type Net } from "../../scripts/lib/chain-helpers";
import { admittedNetwork } from "./service-processes";

const CHILD = path.join(REPO_ROOT, "test/service/indexer-child.ts");
const MAX_BLOCK_RANGE = 2;

interface ChildRun {
  batches: number;
  signal: NodeJS.Signals | null;
  code: number | null;
}

/** Runs the indexer child process; with `killAfterBatches`, SIGKILLs it as soon as it reported that many commits. */
function runChild(url: string, deploymentFile: string, dataDir: string, killAfterBatches?: number): Promise<ChildRun> {
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", CHILD, url, deploymentFile, dataDir, String(MAX_BLOCK_RANGE)],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let batches = 0;
  let stderr = "";
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith("batch ")) continue;
      batches += 1;
      if (killAfterBatches !== undefined && batches === killAfterBatches) child.kill("SIGKILL");
    }
  });
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code !== 0 && signal !== "SIGKILL") reject(new Error(`indexer child exited with ${code}: ${stderr}`));
      else resolve({ batches, signal, code });
    });
  });
}

async function readStore(dataDir: string): Promise<StoredIndex> {
  return parseIndex(await readFile(path.join(dataDir, "index.json"), "utf8"));
}

function canonicalState(doc: StoredIndex): unknown {
  return JSON.parse(JSON.stringify(encodeIndexState(doc.state)));
}

describe("indexer restart and chain reset (separate processes, hardhat node over HTTP)", function () {
  this.timeout(240_000);
  let node: HardhatNode | undefined;
  const dirs: string[] = [];
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "indexer-restart-"));
    dirs.push(dir);
    return dir;
  }
  afterEach(async () => {
    await node?.stop();
    node = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function chainWithHistory(orders: number, tag: string): Promise<Net> {
    node = await startHardhatNode();
    const { net, parties } = await admittedNetwork(node);
    await generateHistory(net, { ...parties, orders, anchors: 10, tag });
    return net;
  }

  it("killed with SIGKILL mid-sync, twice, resumes from its checkpoint and ends with the state of an uninterrupted run", async () => {
    const net = await chainWithHistory(24, "restart");
    const head = Number(await net.publicClient.getBlockNumber());
    const deploymentFile = path.join(await tempDir(), "deployment.json");
    await writeFile(deploymentFile, JSON.stringify(net.deployment));

    const uninterruptedDir = await tempDir();
    const reference = await runChild(node!.url, deploymentFile, uninterruptedDir);
    expect(reference.code).to.equal(0);
    expect(reference.batches).to.be.above(20); // one commit per 2-block range

    const interruptedDir = await tempDir();
    const first = await runChild(node!.url, deploymentFile, interruptedDir, 5);
    expect(first.signal).to.equal("SIGKILL");
    const afterFirstKill = await readStore(interruptedDir);
    expect(afterFirstKill.checkpoint!.blockNumber).to.be.below(head);

    const second = await runChild(node!.url, deploymentFile, interruptedDir, 8);
    expect(second.signal).to.equal("SIGKILL");
    const afterSecondKill = await readStore(interruptedDir);
    expect(afterSecondKill.checkpoint!.blockNumber).to.be.above(afterFirstKill.checkpoint!.blockNumber).and.below(head);

    const last = await runChild(node!.url, deploymentFile, interruptedDir);
    expect(last.code).to.equal(0);

    const expected = await readStore(uninterruptedDir);
    const actual = await readStore(interruptedDir);
    expect(actual.checkpoint).to.deep.equal(expected.checkpoint);
    expect(actual.checkpoint!.blockNumber).to.equal(head);
    expect(canonicalState(actual)).to.deep.equal(canonicalState(expected));
    expect(actual.state.eventCount).to.be.above(150);
  });

  it("detects a chain reset (the node restarted with a new chain) and rebuilds instead of serving stale data", async () => {
    const first = await chainWithHistory(6, "before-reset");
    const dataDir = await tempDir();
    const silent = pino({ level: "silent" });
    const before = await createIndexer({ publicClient: first.publicClient, deployment: first.deployment, dataDir, logger: silent });
    await before.syncOnce();
    await before.stop();
    await node!.stop();

    // Same deployer and nonces on the new chain: the very same contract addresses, only the genesis differs.
    const second = await chainWithHistory(2, "after-reset");
    expect(second.deployment.contracts).to.deep.equal(first.deployment.contracts);
    expect(second.deployment.genesisHash).to.not.equal(first.deployment.genesisHash);
    const after = await createIndexer({ publicClient: second.publicClient, deployment: second.deployment, dataDir, logger: silent });
    await after.syncOnce();
    const fresh = await createIndexer({
      publicClient: second.publicClient,
      deployment: second.deployment,
      dataDir: await tempDir(),
      logger: silent,
    });
    await fresh.syncOnce();

    expect(Object.keys(after.state().orders)).to.have.length(2);
    expect(JSON.parse(JSON.stringify(encodeIndexState(after.state())))).to.deep.equal(
      JSON.parse(JSON.stringify(encodeIndexState(fresh.state()))),
    );
    expect(after.checkpoint()).to.deep.equal(fresh.checkpoint());
    await after.stop();
    await fresh.stop();
  });
});
