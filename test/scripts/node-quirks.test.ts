/**
 * What a second, independent node (Anvil, from its npm package) does differently from Hardhat's, and
 * how the project answers: a getLogs range beyond the head is not a range too large; a range the node
 * does not answer in time is narrowed (a slow node, or a first sync over a long history); a chain without
 * Cancun is refused by the deploy script before any transaction; the seed refuses any chain but a
 * development chain.
 */
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { createPublicClient, http, type PublicClient } from "viem";
import { pino } from "pino";
import { BeyondHeadError, createLogFetcher, isRangeRefusal, isTimeout } from "../../node-service/src/indexer/historical";
import { freePort, killAll, spawnTs, startAnvil } from "./processes";

// Anvil's first default account (Hardhat's mnemonic): public knowledge, used on throwaway chains only.
const KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDRESS0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

async function anvil(args: string[] = []): Promise<{ url: string; publicClient: PublicClient }> {
  const port = await freePort();
  await startAnvil(port, args);
  const url = `http://127.0.0.1:${port}`;
  return { url, publicClient: createPublicClient({ transport: http(url, { retryCount: 0 }), cacheTime: 0 }) as PublicClient };
}

/**
 * An HTTP JSON-RPC proxy to `upstream` that holds back for 1 s its answer to each eth_getLogs for which
 * `slow(from, to)` is true; it records the block ranges it answered at once.
 */
async function slowLogsProxy(
  upstream: string,
  slow: (from: number, to: number) => boolean,
): Promise<{ url: string; answered: () => [number, number][]; close: () => Promise<void> }> {
  const answered: [number, number][] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const call = JSON.parse(body) as { method: string; params?: { fromBlock?: string; toBlock?: string }[] };
      const range = call.method === "eth_getLogs" ? [Number(call.params?.[0]?.fromBlock), Number(call.params?.[0]?.toBlock)] : null;
      const held = range !== null && slow(range[0], range[1]);
      if (range && !held) answered.push([range[0], range[1]]);
      void (async () => {
        if (held) await new Promise((r) => setTimeout(r, 1000));
        const answer = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
        if (!res.destroyed) res.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answered: () => answered,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnTs(args, env);
  const code = await child.exited;
  return { code, output: child.output() };
}

describe("node quirks (Anvil as a second node)", function () {
  this.timeout(120_000);

  after(() => killAll());

  it("takes Anvil's answer to a getLogs range beyond its head for what it is, not for a range too large", async () => {
    const { publicClient } = await anvil();
    await publicClient.request({ method: "anvil_mine", params: ["0x3"] } as never);
    const head = Number(await publicClient.getBlockNumber());
    const fetcher = createLogFetcher({ publicClient, addresses: [ADDRESS0], maxBlockRange: 2000, logger: pino({ level: "silent" }) });

    // Up to the head: answered.
    expect((await fetcher.fetch(0, head)).to).to.equal(head);
    // Beyond it (the node's head moved back under the caller): Anvil's "BlockOutOfRangeError".
    const error = await fetcher.fetch(head + 1, head + 100).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(BeyondHeadError);
    expect((error as BeyondHeadError).message).to.include(`no block ${head + 1}..${head + 100}`);
    expect(isRangeRefusal((error as BeyondHeadError).cause)).to.equal(false);
    // Not halved down to one block, not counted as a refusal.
    expect(fetcher.refusals()).to.equal(0);
    expect(fetcher.span()).to.equal(2000);
  });

  it("narrows a getLogs range the node does not answer within the timeout, and gives up only on a single block", async () => {
    const { url } = await anvil();
    const direct = createPublicClient({ transport: http(url, { retryCount: 0 }), cacheTime: 0 }) as PublicClient;
    await direct.request({ method: "anvil_mine", params: ["0x28"] } as never);
    const head = Number(await direct.getBlockNumber());
    // A slow node in front of Anvil: a getLogs over more than `wide` blocks is answered after 1 s, or
    // every getLogs once `stall` is set; the client gives up after 250 ms.
    const wide = 8;
    let stall = false;
    const slow = await slowLogsProxy(url, (from, to) => stall || to - from + 1 > wide);
    try {
      const publicClient = createPublicClient({ transport: http(slow.url, { retryCount: 0, timeout: 250 }), cacheTime: 0 }) as PublicClient;
      const fetcher = createLogFetcher({ publicClient, addresses: [ADDRESS0], maxBlockRange: 2000, logger: pino({ level: "silent" }) });
      // 0..40 times out, then 0..20, then 0..10; 0..4 is answered.
      const first = await fetcher.fetch(0, head);
      expect(first.to).to.equal(4);
      expect(fetcher.refusals()).to.equal(3);
      // The rest of the history follows in ranges the node answers in time, to the head.
      let from = first.to + 1;
      while (from <= head) from = (await fetcher.fetch(from, head)).to + 1;
      expect(from).to.equal(head + 1);
      expect(slow.answered().every(([f, t]) => t - f + 1 <= wide)).to.equal(true);

      // A node that answers not even one block in time: the timeout reaches the caller, not an endless halving.
      stall = true;
      const error = await fetcher.fetch(0, head).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isTimeout(error), String(error)).to.equal(true);
      expect(fetcher.span()).to.equal(1);
    } finally {
      await slow.close();
    }
  });

  it("refuses to deploy on a chain without Cancun, with a sentence, before sending anything", async () => {
    const { url, publicClient } = await anvil(["--hardfork", "shanghai"]);
    const file = path.join(os.tmpdir(), `scf-shanghai-${process.pid}-${Date.now()}.json`);
    const out = await run(["scripts/deploy.ts", "--rpc", url, "--out", file], { PRIVATE_KEY: KEY0 });
    expect(out.code, out.output).to.equal(1);
    expect(existsSync(file)).to.equal(false);
    expect(out.output).to.match(
      /deploy failed: this chain does not run the Cancun EVM \(a probe using MCOPY failed: .+\); the contracts are compiled for Cancun/,
    );
    expect(await publicClient.getTransactionCount({ address: ADDRESS0 })).to.equal(0);
  });

  it("refuses to seed any chain but a development chain", async () => {
    const { url, publicClient } = await anvil(["--chain-id", "4242", "--accounts", "20"]);
    const out = await run(["scripts/seed.ts", "--rpc", url, "--deployment", "/nonexistent/deployment.json"], {});
    expect(out.code, out.output).to.equal(1);
    expect(out.output).to.include(
      "seed failed: the seed runs only on a development chain (chain id 31337 or 1337); this node is chain 4242",
    );
    expect(await publicClient.getTransactionCount({ address: ADDRESS0 })).to.equal(0);
  });
});
