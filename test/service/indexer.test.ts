import { expect } from "chai";
import hre from "hardhat";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { createPublicClient, custom, type EIP1193Parameters, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import type { Deployment } from "../../node-service/src/chain/contracts";
import { createIndexer, type BatchEvent, type Indexer, type ReorgEvent } from "../../node-service/src/indexer/indexer";
import { encodeIndexState } from "../../node-service/src/store/state-codec";
import { parseIndex } from "../../node-service/src/store/index-store";
import type { IndexState } from "../../node-service/src/domain/entities";
import { createOrder, docHash, generateHistory, send, type Net } from "../../scripts/lib/chain-helpers";
import { admittedNetwork, hardhatNetwork } from "./service-processes";

/** The state as its stored JSON form, so two states compare field by field, bigint amounts included. */
function canonical(state: IndexState): unknown {
  return JSON.parse(JSON.stringify(encodeIndexState(state)));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  return (await hre.network.provider.request({ method, params })) as T;
}

describe("indexer", () => {
  const dirs: string[] = [];
  const indexers: Indexer[] = [];
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "indexer-"));
    dirs.push(dir);
    return dir;
  }
  async function indexerFor(
    net: Net,
    opts: {
      dataDir?: string;
      reorgDepth?: number;
      publicClient?: PublicClient;
      maxBlockRange?: number;
      commitIntervalMs?: number;
      pollIntervalMs?: number;
      deployment?: Deployment;
    } = {},
  ) {
    const indexer = await createIndexer({
      publicClient: opts.publicClient ?? net.publicClient,
      deployment: opts.deployment ?? net.deployment,
      commitIntervalMs: opts.commitIntervalMs,
      maxWriteShare: opts.commitIntervalMs === 0 ? 1 : undefined,
      pollIntervalMs: opts.pollIntervalMs,
      dataDir: opts.dataDir ?? (await tempDir()),
      reorgDepth: opts.reorgDepth,
      maxBlockRange: opts.maxBlockRange,
      logger: pino({ level: "silent" }),
    });
    indexers.push(indexer);
    return indexer;
  }
  /** What a fresh index of the final chain holds. */
  async function freshState(net: Net): Promise<unknown> {
    const fresh = await indexerFor(net);
    await fresh.syncOnce();
    return canonical(fresh.state());
  }
  afterEach(async () => {
    for (const i of indexers.splice(0)) await i.stop();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  const setup = async () => admittedNetwork(await hardhatNetwork());

  describe("reorgs", () => {
    it("rolls back to the fork point and ends with the state of a fresh index of the final chain", async () => {
      const { net, parties } = await setup();
      await generateHistory(net, { ...parties, orders: 2, tag: "common" });
      const forkBlock = Number(await net.publicClient.getBlockNumber());
      const snapshot = await rpc<string>("evm_snapshot");
      await generateHistory(net, { ...parties, orders: 4, anchors: 2, tag: "old" });

      const indexer = await indexerFor(net);
      const reorgs: ReorgEvent[] = [];
      indexer.on("reorg", (r) => reorgs.push(r));
      await indexer.syncOnce();
      const oldTip = indexer.checkpoint()!.blockNumber;
      const oldState = canonical(indexer.state());
      const oldHashes = await Promise.all(
        range(forkBlock, oldTip).map(async (n) => (await net.publicClient.getBlock({ blockNumber: BigInt(n) })).hash),
      );

      expect(await rpc<boolean>("evm_revert", [snapshot])).to.equal(true);
      await generateHistory(net, { ...parties, orders: 7, anchors: 3, tag: "new" });
      expect(Number(await net.publicClient.getBlockNumber())).to.be.above(oldTip);
      await indexer.syncOnce();

      // The fork point is the last block both branches share (the first blocks after the snapshot can be
      // identical: same transactions, same timestamps).
      const newHashes = await Promise.all(
        range(forkBlock, oldTip).map(async (n) => (await net.publicClient.getBlock({ blockNumber: BigInt(n) })).hash),
      );
      const shared = newHashes.findIndex((h, i) => h !== oldHashes[i]) - 1;
      expect(shared).to.be.at.least(0);
      expect(reorgs).to.deep.equal([{ forkBlock: forkBlock + shared, droppedFrom: oldTip }]);
      const expected = await freshState(net);
      expect(canonical(indexer.state())).to.deep.equal(expected);
      expect(expected).to.not.deep.equal(oldState);
      expect(indexer.checkpoint()!.blockHash).to.equal((await net.publicClient.getBlock()).hash);
    });

    it("rolls back when the new branch is shorter than the indexed one", async () => {
      const { net, parties } = await setup();
      const snapshot = await rpc<string>("evm_snapshot");
      await generateHistory(net, { ...parties, orders: 6, tag: "long" });
      const indexer = await indexerFor(net);
      await indexer.syncOnce();
      const oldTip = indexer.checkpoint()!.blockNumber;

      await rpc("evm_revert", [snapshot]);
      await generateHistory(net, { ...parties, orders: 1, tag: "short" });
      expect(Number(await net.publicClient.getBlockNumber())).to.be.below(oldTip);
      await indexer.syncOnce();

      expect(canonical(indexer.state())).to.deep.equal(await freshState(net));
      expect(Object.keys(indexer.state().orders)).to.have.length(1);
    });

    it("survives a reorg that happens while it is stopped, with the undo information it saved", async () => {
      const { net, parties } = await setup();
      await generateHistory(net, { ...parties, orders: 1, tag: "base" });
      const snapshot = await rpc<string>("evm_snapshot");
      await generateHistory(net, { ...parties, orders: 4, tag: "orphan" });
      const dataDir = await tempDir();
      const first = await indexerFor(net, { dataDir });
      await first.syncOnce();
      await first.stop();

      await rpc("evm_revert", [snapshot]);
      await generateHistory(net, { ...parties, orders: 5, tag: "canonical" });
      const reopened = await indexerFor(net, { dataDir });
      const reorgs: ReorgEvent[] = [];
      reopened.on("reorg", (r) => reorgs.push(r));
      await reopened.syncOnce();

      expect(reorgs).to.have.length(1);
      expect(reorgs[0].forkBlock).to.be.above(net.deployment.startBlock); // rolled back, not rebuilt
      expect(canonical(reopened.state())).to.deep.equal(await freshState(net));
      const file = parseIndex(await readFile(path.join(dataDir, "index.json"), "utf8"));
      expect(canonical(file.state)).to.deep.equal(canonical(reopened.state()));
    });

    it("rebuilds from the deployment block when the fork is deeper than the undo window", async () => {
      const { net, parties } = await setup();
      const snapshot = await rpc<string>("evm_snapshot");
      await generateHistory(net, { ...parties, orders: 4, tag: "deep-old" });
      const indexer = await indexerFor(net, { reorgDepth: 3 });
      const reorgs: ReorgEvent[] = [];
      indexer.on("reorg", (r) => reorgs.push(r));
      await indexer.syncOnce();

      await rpc("evm_revert", [snapshot]);
      await generateHistory(net, { ...parties, orders: 5, tag: "deep-new" });
      await indexer.syncOnce();

      expect(reorgs).to.have.length(1);
      expect(reorgs[0].forkBlock).to.equal(net.deployment.startBlock - 1);
      expect(canonical(indexer.state())).to.deep.equal(await freshState(net));
    });
  });

  describe("batches and following the head", () => {
    it("hands every event to batch listeners exactly once, in chain order, in contiguous block ranges", async () => {
      const { net, parties } = await setup();
      await generateHistory(net, { ...parties, orders: 4, anchors: 3, tag: "batches" });
      const indexer = await indexerFor(net, { maxBlockRange: 3, commitIntervalMs: 0 });
      const batches: BatchEvent[] = [];
      indexer.on("batch", (b) => batches.push(b));
      await indexer.syncOnce();

      expect(batches.length).to.be.above(5);
      expect(batches[0].fromBlock).to.equal(net.deployment.startBlock);
      for (let i = 1; i < batches.length; i++) expect(batches[i].fromBlock).to.equal(batches[i - 1].toBlock + 1);
      expect(batches[batches.length - 1].toBlock).to.equal(indexer.checkpoint()!.blockNumber);
      const seen = batches.flatMap((b) => b.events.map((e) => e.ref));
      expect(seen).to.have.length(indexer.state().eventCount);
      const order = (r: { blockNumber: number; logIndex: number }) => r.blockNumber * 1e6 + r.logIndex;
      for (let i = 1; i < seen.length; i++) expect(order(seen[i])).to.be.above(order(seen[i - 1]));
    });

    it("follows the head by polling after its historical sync, and flushes on stop", async () => {
      const { net, parties } = await setup();
      await generateHistory(net, { ...parties, orders: 1, tag: "follow-1" });
      const dataDir = await tempDir();
      const indexer = await indexerFor(net, { dataDir, pollIntervalMs: 50 });
      await indexer.start();
      const before = indexer.state().eventCount;
      await generateHistory(net, { ...parties, orders: 2, tag: "follow-2" });
      const head = Number(await net.publicClient.getBlockNumber());
      for (let i = 0; i < 200 && indexer.stats().indexedBlock < head; i++) await new Promise((r) => setTimeout(r, 25));
      await indexer.stop();

      expect(indexer.stats()).to.include({ indexedBlock: head, headBlock: head, lag: 0 });
      expect(indexer.state().eventCount).to.be.above(before);
      expect(canonical(indexer.state())).to.deep.equal(await freshState(net));
      const file = parseIndex(await readFile(path.join(dataDir, "index.json"), "utf8"));
      expect(file.checkpoint!.blockNumber).to.equal(head);
    });

    it("fails loudly on an event about a record it never saw, keeping the last committed state", async () => {
      const { net, parties } = await setup();
      const early = await createOrder(net, { buyer: parties.buyer, supplier: parties.supplier.account.address, amount: 5n });
      // A deployment record whose start block is too late: the early order's creation is missed.
      const late: Deployment = { ...net.deployment, startBlock: Number(await net.publicClient.getBlockNumber()) + 1 };
      await send(net, parties.supplier, "EvidenceNotary", "anchor", [docHash("ok"), 1, docHash("ref")]);
      const orderId = await createOrder(net, { buyer: parties.buyer, supplier: parties.supplier.account.address, amount: 5n });
      await send(net, parties.supplier, "TradeOrders", "cancel", [early, 1]);
      const indexer = await indexerFor(net, { deployment: late, maxBlockRange: 1, commitIntervalMs: 0 });
      let error: Error | undefined;
      await indexer.syncOnce().catch((e: Error) => (error = e));

      expect(error?.message).to.match(/OrderCancelled at block \d+ .* refers to unknown order/);
      const committed = indexer.checkpoint()!;
      expect(committed.blockNumber).to.equal(late.startBlock + 1); // the anchor and the new order were committed
      expect(Object.keys(indexer.state().anchors)).to.deep.equal([docHash("ok")]);
      expect(Object.keys(indexer.state().orders)).to.deep.equal([orderId.toString()]);
    });
  });

  describe("chain identity", () => {
    it("starts over when the saved index belongs to other contract addresses", async () => {
      const { net, parties } = await setup();
      await generateHistory(net, { ...parties, orders: 3, tag: "first-deployment" });
      const dataDir = await tempDir();
      const first = await indexerFor(net, { dataDir });
      await first.syncOnce();
      await first.stop();
      expect(Object.keys(first.state().orders)).to.have.length(3);

      const second = await setup();
      await generateHistory(second.net, { ...second.parties, orders: 1, tag: "second-deployment" });
      const reopened = await indexerFor(second.net, { dataDir });
      expect(reopened.checkpoint()).to.equal(null);
      expect(reopened.state().eventCount).to.equal(0);
      await reopened.syncOnce();
      expect(canonical(reopened.state())).to.deep.equal(await freshState(second.net));
      const file = parseIndex(await readFile(path.join(dataDir, "index.json"), "utf8"));
      expect(file.identity.contracts.TradeOrders).to.equal(second.net.deployment.contracts.TradeOrders.toLowerCase());
    });

    it("refuses a deployment record that belongs to another chain", async () => {
      const { net } = await setup();
      const wrongGenesis: Deployment = { ...net.deployment, genesisHash: `0x${"11".repeat(32)}` };
      const wrongChain: Deployment = { ...net.deployment, chainId: 1 };
      const dataDir = await tempDir();
      for (const deployment of [wrongGenesis, wrongChain]) {
        let error: Error | undefined;
        await createIndexer({ publicClient: net.publicClient, deployment, dataDir }).catch((e: Error) => (error = e));
        expect(error?.message).to.match(/not the deployment's (genesis|chain id)/);
      }
    });
  });

  describe("adaptive block range", () => {
    /** The in-process node behind a transport that refuses getLogs over more than `limit` blocks, as nodes do. */
    function limitedClient(limit: number, seen: { spans: number[]; refused: number }): PublicClient {
      return createPublicClient({
        chain: hardhat,
        transport: custom(
          {
            async request({ method, params }: EIP1193Parameters) {
              if (method === "eth_getLogs") {
                const [filter] = params as [{ fromBlock: string; toBlock: string }];
                const span = Number(filter.toBlock) - Number(filter.fromBlock) + 1;
                if (span > limit) {
                  seen.refused += 1;
                  throw Object.assign(new Error(`query exceeds max block range ${limit}`), { code: -32602 });
                }
                seen.spans.push(span);
              }
              return hre.network.provider.request({ method, params } as never);
            },
          },
          { retryCount: 0 },
        ),
      }) as unknown as PublicClient;
    }

    it("halves the range when the node refuses it as too large, grows it again, and misses nothing", async () => {
      const { net, parties } = await setup();
      await generateHistory(net, { ...parties, orders: 6, anchors: 4, tag: "range" });
      const seen = { spans: [] as number[], refused: 0 };
      const indexer = await indexerFor(net, { publicClient: limitedClient(7, seen), maxBlockRange: 100 });
      await indexer.syncOnce();

      expect(canonical(indexer.state())).to.deep.equal(await freshState(net));
      expect(seen.refused).to.be.above(0);
      expect(indexer.stats().rangeRefusals).to.equal(seen.refused);
      expect(Math.max(...seen.spans)).to.equal(7);
      // Growing again after a success: most calls use a range close to the node's limit, not 1 block.
      const blocks = Number(await net.publicClient.getBlockNumber()) - net.deployment.startBlock + 1;
      expect(seen.spans.length).to.be.below(blocks / 3);
    });

    it("does not take another node error for a range refusal", async () => {
      const { net } = await setup();
      const failing = createPublicClient({
        chain: hardhat,
        transport: custom(
          {
            async request({ method, params }: EIP1193Parameters) {
              if (method === "eth_getLogs") throw Object.assign(new Error("database is closed"), { code: -32000 });
              return hre.network.provider.request({ method, params } as never);
            },
          },
          { retryCount: 0 },
        ),
      }) as unknown as PublicClient;
      const indexer = await indexerFor(net, { publicClient: failing });
      let error: Error | undefined;
      await indexer.syncOnce().catch((e: Error) => (error = e));
      expect(error?.message).to.include("database is closed");
      expect(indexer.stats().rangeRefusals).to.equal(0);
    });
  });
});
