/**
 * What an operator runs: the output of `npm run build` (dist/, artifacts/, web/dist/) with the
 * package's production dependencies only (`npm ci --omit=dev`, from npm's cache when it has them),
 * no ts-node, no source. The compiled deploy script deploys to a `hardhat node` on loopback, the
 * compiled service starts against it and answers /healthz, and the compiled evidence verifier loads.
 * A package that the service or those scripts import at run time but that sits in devDependencies
 * fails here. Needs `npm run build` first (`npm test` runs it).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { privateKeyToAccount } from "viem/accounts";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";
import { freePort, killAll, spawnNode, startHardhatNode, waitForOutput, type Spawned } from "./processes";

// Hardhat's first well-known development key: public knowledge, for this throwaway chain only.
const OPERATOR_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/** What `npm run build` leaves and an operator copies to a server. */
const BUILD_OUTPUT = ["package.json", "package-lock.json", "dist/node-service", "dist/scripts", "artifacts/contracts", "web/dist"];

describe("the production install: build output plus `npm ci --omit=dev`, run with node", function () {
  this.timeout(600_000);
  let dir: string;
  let rpcUrl: string;
  let service: Spawned | undefined;

  before(async function () {
    for (const entry of BUILD_OUTPUT) {
      if (!existsSync(path.join(REPO_ROOT, entry))) throw new Error(`${entry} is missing: run "npm run build" first`);
    }
    dir = mkdtempSync(path.join(os.tmpdir(), "scf-production-"));
    for (const entry of BUILD_OUTPUT) cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
    const started = Date.now();
    const install = spawnSync("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, encoding: "utf8" });
    expect(install.status, `${install.stdout}\n${install.stderr}`).to.equal(0);
    console.log(`      npm ci --omit=dev: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const port = await freePort();
    rpcUrl = `http://127.0.0.1:${port}`;
    await startHardhatNode(port);
  });

  after(async function () {
    killAll();
    await service?.exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("installs no development package", function () {
    for (const devOnly of ["eslint", "solhint", "playwright-core", "@sparticuz/chromium", "@nomicfoundation/hardhat-network-helpers"]) {
      expect(existsSync(path.join(dir, "node_modules", devOnly)), `node_modules/${devOnly}`).to.equal(false);
    }
  });

  it("deploys with the compiled deploy script, starts the compiled service and answers /healthz", async function () {
    const deploymentFile = path.join(dir, "deployment.json");
    const deploy = spawnNode(dir, ["dist/scripts/deploy.js", "--rpc", rpcUrl, "--out", deploymentFile], { PRIVATE_KEY: OPERATOR_KEY });
    const deployed = await deploy.exited;
    expect(deployed, deploy.output()).to.equal(0);
    expect(deploy.output()).to.include("deployed 7 contracts on chain 31337");
    const deployment = JSON.parse(readFileSync(deploymentFile, "utf8")) as { deployer: string };
    expect(deployment.deployer).to.equal(privateKeyToAccount(OPERATOR_KEY).address);

    service = spawnNode(dir, ["dist/node-service/src/server.js"], {
      RPC_URL: rpcUrl,
      CHAIN_ID: "31337",
      DEPLOYMENT_FILE: deploymentFile,
      DATA_DIR: path.join(dir, "data"),
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
    });
    await waitForOutput(service, /API listening on (http:\/\/\S+)/, 120_000);
    const base = /API listening on (http:\/\/\S+)/.exec(service.output())![1];
    const res = await fetch(`${base}/healthz`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).to.equal(200);
    expect(body).to.include({ status: "ok", chainId: 31337 });
    const page = await fetch(`${base}/`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.include(`<div id="root">`);

    service.child.kill("SIGTERM");
    expect(await service.exited, service.output()).to.equal(0);
  });

  it("loads the compiled evidence verifier, which answers a usage error with exit code 2", async function () {
    const verify = spawnNode(dir, ["dist/scripts/verify-evidence.js"]);
    expect(await verify.exited, verify.output()).to.equal(2);
    expect(verify.output()).to.include("usage: verify-evidence");
  });
});
