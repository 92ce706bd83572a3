/**
 * scripts/deploy.ts against a separately started `hardhat node` (a real JSON-RPC server over HTTP).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { createPublicClient, http, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { encryptKeystoreJson, Wallet } from "ethers";
import { CONTRACT_NAMES, type Deployment } from "../../node-service/src/chain/contracts";
import { freePort, killAll, spawnTs, startHardhatNode } from "./processes";

// Hardhat's well-known test keys #5 and #6 (public knowledge, never used outside a dev chain).
const KEY_5 = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
const KEY_6 = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e";

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = spawnTs(args, env);
  const code = await child.exited;
  return { code, output: child.output() };
}

describe("scripts/deploy.ts against a hardhat node", function () {
  this.timeout(180_000);
  let url: string;
  let dir: string;
  let publicClient: PublicClient;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "scf-deploy-"));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await startHardhatNode(port);
    publicClient = createPublicClient({ transport: http(url) }) as PublicClient;
  });

  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("deploys, writes the deployment file, and on a second run reuses it without sending a transaction", async () => {
    const file = path.join(dir, "first.json");
    const first = await run(["scripts/deploy.ts", "--rpc", url, "--out", file]);
    expect(first.code, first.output).to.equal(0);
    expect(first.output).to.include(`deployed 7 contracts on chain 31337`);
    const deployment = JSON.parse(readFileSync(file, "utf8")) as Deployment;
    const genesis = await publicClient.getBlock({ blockNumber: 0n });
    expect(deployment.chainId).to.equal(31337);
    expect(deployment.genesisHash).to.equal(genesis.hash);
    expect(deployment.startBlock).to.be.greaterThan(0);
    for (const name of CONTRACT_NAMES)
      expect(await publicClient.getCode({ address: deployment.contracts[name] })).to.match(/^0x[0-9a-f]{100,}/);
    const blockAfterFirst = await publicClient.getBlockNumber();

    const second = await run(["scripts/deploy.ts", "--rpc", url], { DEPLOYMENT_FILE: file });
    expect(second.code, second.output).to.equal(0);
    expect(second.output).to.include(`reusing the deployment in ${file}`);
    expect(JSON.parse(readFileSync(file, "utf8"))).to.deep.equal(deployment);
    expect(await publicClient.getBlockNumber()).to.equal(blockAfterFirst);
  });

  it("deploys anew when the file is for another genesis, and keeps the old file aside", async () => {
    const file = path.join(dir, "stale.json");
    const first = await run(["scripts/deploy.ts", "--rpc", url, "--out", file]);
    expect(first.code, first.output).to.equal(0);
    const stale = JSON.parse(readFileSync(file, "utf8")) as Deployment;
    writeFileSync(file, JSON.stringify({ ...stale, genesisHash: `0x${"11".repeat(32)}` }));

    const again = await run(["scripts/deploy.ts", "--rpc", url, "--out", file]);
    expect(again.code, again.output).to.equal(0);
    expect(again.output).to.match(/not reusing .*it is for genesis 0x1{64}/);
    const fresh = JSON.parse(readFileSync(file, "utf8")) as Deployment;
    expect(fresh.contracts.ParticipantRegistry).to.not.equal(stale.contracts.ParticipantRegistry);
    expect(readdirSync(dir).filter((f) => f.startsWith("stale.json.") && f.endsWith(".bak"))).to.have.length(1);
  });

  it("signs with PRIVATE_KEY when one is given", async () => {
    const file = path.join(dir, "key.json");
    const result = await run(["scripts/deploy.ts", "--rpc", url, "--out", file], { PRIVATE_KEY: KEY_5 });
    expect(result.code, result.output).to.equal(0);
    const deployment = JSON.parse(readFileSync(file, "utf8")) as Deployment;
    expect(deployment.deployer).to.equal(privateKeyToAccount(KEY_5).address);
  });

  it("signs with a keystore file whose password comes from KEYSTORE_PASSWORD, and refuses it without the password", async () => {
    const keystore = path.join(dir, "operator.keystore.json");
    // Light scrypt parameters: the test checks the plumbing, not the key derivation's cost.
    const wallet = new Wallet(KEY_6);
    writeFileSync(
      keystore,
      await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, "correct horse", { scrypt: { N: 1024 } }),
    );
    const file = path.join(dir, "keystore.json");

    const refused = await run(["scripts/deploy.ts", "--rpc", url, "--out", file, "--keystore", keystore], { KEYSTORE_PASSWORD: "" });
    expect(refused.code).to.equal(1);
    expect(refused.output).to.include("needs its password in KEYSTORE_PASSWORD");
    expect(existsSync(file)).to.equal(false);

    const result = await run(["scripts/deploy.ts", "--rpc", url, "--out", file, "--keystore", keystore], {
      KEYSTORE_PASSWORD: "correct horse",
    });
    expect(result.code, result.output).to.equal(0);
    const deployment = JSON.parse(readFileSync(file, "utf8")) as Deployment;
    expect(deployment.deployer).to.equal(privateKeyToAccount(KEY_6).address);
  });
});
