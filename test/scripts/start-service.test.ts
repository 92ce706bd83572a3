/**
 * The whole `npm start` (chain, demo seed and the service) as a real process, killed with SIGKILL and
 * started again: the service comes back on the restored chain with its index caught up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { freePort, killAll, startReady } from "./processes";

interface Health {
  status: string;
  chainId: number;
  indexedBlock: number;
  headBlock: number;
}

async function health(url: string): Promise<Health> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${url}/healthz`);
    const body = (await res.json()) as Health;
    if (res.status === 200 && body.indexedBlock === body.headBlock) return body;
    if (Date.now() > deadline) throw new Error(`service not caught up: ${res.status} ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("npm start with the service", function () {
  this.timeout(300_000);
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "scf-start-service-"));
  });

  after(() => {
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints one URL whose service indexes the demo chain, and serves it again after a SIGKILL and restart", async () => {
    const env = async () => ({ DATA_DIR: dataDir, CHAIN_PORT: String(await freePort()), PORT: "0", LOG_LEVEL: "warn" });
    let run = await startReady(await env(), []);
    expect(run.output()).not.to.include("not there yet");
    expect(run.url).to.not.equal(run.chainUrl);
    const first = await health(run.url);
    expect(first).to.include({ status: "ok", chainId: 31337 });
    expect(first.headBlock).to.be.greaterThan(300);

    run.child.kill("SIGKILL");
    await run.exited;

    run = await startReady(await env(), []);
    expect(run.output()).to.match(/head block hashes match/);
    const second = await health(run.url);
    expect(second.headBlock).to.equal(first.headBlock);
    expect(second.indexedBlock).to.equal(first.indexedBlock);

    run.child.kill("SIGINT");
    expect(await run.exited).to.equal(0);
  });
});
