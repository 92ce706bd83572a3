/**
 * What a second, independent node (Anvil, from its npm package) does differently from Hardhat's, and
 * how the project answers: a getLogs range beyond the head is not a range too large; a chain without
 * Cancun is refused by the deploy script before any transaction; the seed refuses any chain but a
 * development chain.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { createPublicClient, http, type PublicClient } from "viem";
import { pino } from "pino";
import { BeyondHeadError, createLogFetcher, isRangeRefusal } from "../../node-service/src/indexer/historical";
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
