/**
 * The service against a real `hardhat node` child process when the node misbehaves: stopped with
 * SIGSTOP (a hung node: /healthz still answers within a second, chain routes fail fast with
 * chain_unavailable, and it recovers after SIGCONT), and replaced by another chain behind the same
 * URL (the index is kept, chain data is refused with the reason, the access log and applications stay
 * readable).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { createPublicClient, createWalletClient, http, type Address, type PublicClient } from "viem";
import { ROLE } from "../../node-service/src/chain/eip712";
import { loadConfig } from "../../node-service/src/config";
import { startService, type RunningService } from "../../node-service/src/server";
import { deployAll } from "../../scripts/lib/deploy";
import { chainOf } from "../../scripts/lib/clients";
import { call, signIn } from "../service/api-helpers";
import { admit, type Net, type Wallet } from "../../scripts/lib/chain-helpers";
import { freePort, killAll, startHardhatNode, type Spawned } from "./processes";

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

describe("the service with a hung node and with another chain behind the same URL (real hardhat node)", function () {
  this.timeout(240_000);
  let dir: string;
  let port: number;
  let url: string;
  let node: Spawned;
  let service: RunningService | undefined;
  let supplier: Wallet;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "scf-node-faults-"));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    node = await startHardhatNode(port);
    const chain = chainOf(31337, url);
    const publicClient = createPublicClient({ chain, transport: http(url), pollingInterval: 50 }) as PublicClient;
    const accounts = (await publicClient.request({ method: "eth_accounts" } as never)) as Address[];
    const [operator, sup] = accounts
      .slice(0, 2)
      .map((account) => createWalletClient({ account, chain, transport: http(url) }) as unknown as Wallet);
    supplier = sup;
    const deployment = await deployAll({ publicClient, walletClient: operator as never });
    const net: Net = { publicClient, deployment };
    await admit(net, operator, [{ account: supplier.account.address, roles: ROLE.SUPPLIER }]);
    writeFileSync(path.join(dir, "deployment.json"), JSON.stringify(deployment));
    const config = loadConfig(
      {},
      {
        PORT: 0,
        DATA_DIR: dir,
        DEPLOYMENT_FILE: path.join(dir, "deployment.json"),
        RPC_URL: url,
        LOG_LEVEL: "silent",
        POLL_INTERVAL_MS: 100,
        ROLE_CACHE_MS: 0,
        RPC_TIMEOUT_MS: 1000,
      },
    );
    service = await startService(config);
  });

  after(async () => {
    if (node.child.exitCode === null) node.child.kill("SIGCONT");
    await service?.close();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers /healthz within a second while the node is stopped (SIGSTOP), fails chain routes fast with chain_unavailable, and recovers after SIGCONT", async () => {
    const base = service!.url;
    expect((await call(base, "GET", "/healthz")).status).to.equal(200);
    node.child.kill("SIGSTOP");
    try {
      await new Promise((r) => setTimeout(r, 300)); // past the 250 ms head cache
      const health = await timed(() => call(base, "GET", "/healthz"));
      expect(health.ms).to.be.below(1000);
      expect(health.value.status).to.equal(503);
      expect(health.value.body.status).to.equal("chain unreachable");
      const evidence = await timed(() => call(base, "GET", `/api/evidence/0x${"ab".repeat(32)}`));
      expect(evidence.value.status, JSON.stringify(evidence.value.body)).to.equal(503);
      expect(evidence.value.body.error.code).to.equal("chain_unavailable");
      // RPC_TIMEOUT_MS=1000 with one retry: seconds, not the 40 s of unbounded calls.
      expect(evidence.ms).to.be.below(5000);
    } finally {
      node.child.kill("SIGCONT");
    }
    const deadline = Date.now() + 20_000;
    while ((await call(base, "GET", "/healthz")).status !== 200) {
      if (Date.now() > deadline) throw new Error("/healthz did not recover after SIGCONT");
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it("stops serving chain data when another chain answers at the same URL, keeps the index, and keeps the access log and applications readable", async () => {
    const base = service!.url;
    const token = await signIn(base, supplier);
    const me = supplier.account.address.toLowerCase();
    const participantsBefore = Object.keys(service!.indexer.state().participants).length;
    expect(participantsBefore).to.be.greaterThan(0);

    node.child.kill("SIGKILL");
    await node.exited;
    node = await startHardhatNode(port); // a fresh chain: same chain id, another genesis
    const deadline = Date.now() + 30_000;
    let health = await call(base, "GET", "/healthz");
    while (!/chain identity changed/.test(String(health.body.status))) {
      if (Date.now() > deadline) throw new Error(`/healthz never reported the change: ${JSON.stringify(health.body)}`);
      await new Promise((r) => setTimeout(r, 200));
      health = await call(base, "GET", "/healthz");
    }
    expect(health.status).to.equal(503);
    expect(health.body.status).to.match(/genesis block is now 0x[0-9a-f]{64}/);
    expect(Object.keys(service!.indexer.state().participants).length).to.equal(participantsBefore);

    const chainData = await call(base, "GET", `/api/enterprises/${me}/metrics`, { token });
    expect(chainData.status).to.equal(503);
    expect(chainData.body.error.code).to.equal("chain_unavailable");
    expect(chainData.body.error.message).to.include("chain identity changed");
    const log = await call(base, "GET", `/api/enterprises/${me}/access-log`, { token });
    expect(log.status, JSON.stringify(log.body)).to.equal(200);
    const apps = await call(base, "GET", "/api/applications", { token });
    expect(apps.status, JSON.stringify(apps.body)).to.equal(200);
  });
});
