/**
 * `npm start` as a real process: the embedded chain survives a SIGKILL through its journal, refuses a
 * journal that does not replay, starts over with --fresh, and refuses a taken port.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { createPublicClient, createWalletClient, http, type Address, type Hex } from "viem";
import { abiOf, type Deployment } from "../../node-service/src/chain/contracts";
import { chainOf } from "../../scripts/lib/clients";
import { frame, unframe } from "../../node-service/src/store/framed-journal";
import type { DemoAccountsFile } from "../../scripts/lib/demo-accounts";
import { freePort, killAll, spawnTs, startReady as startProcess } from "./processes";

const startReady = (dataDir: string, chainPort: number, args: string[]) =>
  startProcess({ DATA_DIR: dataDir, CHAIN_PORT: String(chainPort), PORT: "0", LOG_LEVEL: "warn" }, args);
const runStart = (dataDir: string, chainPort: number, args: string[]) =>
  spawnTs(["scripts/start.ts", ...args], { DATA_DIR: dataDir, CHAIN_PORT: String(chainPort), PORT: "0", LOG_LEVEL: "warn" });

function clientsFor(url: string, account: Address) {
  const chain = chainOf(31337, url);
  return {
    publicClient: createPublicClient({ chain, transport: http(url), pollingInterval: 100 }),
    walletClient: createWalletClient({ chain, transport: http(url), account }),
  };
}

describe("npm start (embedded chain)", function () {
  this.timeout(300_000);
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "scf-start-"));
  });

  after(() => {
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps a transaction made before a SIGKILL: same block hash, same state, and the clock goes on", async () => {
    const port = await freePort();
    let run = await startReady(dataDir, port, ["--no-service"]);
    expect(run.output()).to.match(/seeded 20 participants, \d+ orders/);

    const deployment = JSON.parse(readFileSync(path.join(dataDir, "deployment.json"), "utf8")) as Deployment;
    const demo = JSON.parse(readFileSync(path.join(dataDir, "demo-accounts.json"), "utf8")) as DemoAccountsFile;
    const auditor = demo.accounts.find((a) => a.persona === "auditor")!;
    const { publicClient, walletClient } = clientsFor(run.chainUrl, auditor.address);
    const documentHash = `0x${createHash("sha256").update(randomBytes(64)).digest("hex")}` as Hex;
    const notary = { address: deployment.contracts.EvidenceNotary, abi: abiOf("EvidenceNotary") };
    const hash = await walletClient.writeContract({ ...notary, functionName: "anchor", args: [documentHash, 7, documentHash] });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).to.equal("success");
    const anchorBefore = await publicClient.readContract({ ...notary, functionName: "getAnchor", args: [documentHash, auditor.address] });
    const headBefore = await publicClient.getBlock({ blockTag: "latest" });

    run.child.kill("SIGKILL");
    expect(await run.exited).to.equal(null);

    run = await startReady(dataDir, port, ["--no-service"]);
    expect(run.output()).to.match(/head block hashes match/);
    expect(run.output()).to.match(/reusing the deployment/);
    expect(run.output()).not.to.match(/seeding/);
    const after = clientsFor(run.chainUrl, auditor.address);
    const mined = await after.publicClient.getBlock({ blockNumber: receipt.blockNumber });
    expect(mined.hash).to.equal(receipt.blockHash);
    const headAfter = await after.publicClient.getBlock({ blockTag: "latest" });
    expect(headAfter.hash).to.equal(headBefore.hash);
    expect(headAfter.stateRoot).to.equal(headBefore.stateRoot);
    const anchorAfter = await after.publicClient.readContract({
      ...notary,
      functionName: "getAnchor",
      args: [documentHash, auditor.address],
    });
    expect(anchorAfter).to.deep.equal(anchorBefore);
    expect((anchorAfter as { anchorer: Address }).anchorer.toLowerCase()).to.equal(auditor.address.toLowerCase());

    // The restored chain keeps block time in step with the wall clock, as before the kill.
    const second = await after.walletClient.writeContract({
      ...notary,
      functionName: "anchor",
      args: [`0x${"ab".repeat(32)}`, 7, documentHash],
    });
    const secondReceipt = await after.publicClient.waitForTransactionReceipt({ hash: second });
    const secondBlock = await after.publicClient.getBlock({ blockNumber: secondReceipt.blockNumber });
    expect(Math.abs(Number(secondBlock.timestamp) - Date.now() / 1000)).to.be.lessThan(120);

    run.child.kill("SIGTERM");
    expect(await run.exited).to.equal(0);
  });

  it("refuses to start from a journal that no longer replays to the recorded chain, and says to use --fresh", async () => {
    const journal = path.join(dataDir, "chain", "journal.ndjson");
    const original = readFileSync(journal, "utf8");
    const lines = original.trimEnd().split("\n");
    const last = unframe(Buffer.from(lines[lines.length - 1])) as { h: string };
    last.h = `0x${"00".repeat(32)}`;
    lines[lines.length - 1] = frame(last).toString("utf8").trimEnd();
    writeFileSync(journal, `${lines.join("\n")}\n`);
    try {
      const run = runStart(dataDir, await freePort(), ["--no-service"]);
      expect(await run.exited).to.equal(1);
      expect(run.output()).to.match(/journal recorded block \d+ 0x0{64}/);
      expect(run.output()).to.include("npm start -- --fresh");
    } finally {
      writeFileSync(journal, original);
    }
  });

  it("refuses a CHAIN_PORT that is taken, naming the port", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const run = runStart(dataDir, port, ["--no-service"]);
      expect(await run.exited).to.equal(1);
      expect(run.output()).to.include(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("starts over with --fresh: the earlier chain and its roles file are gone", async () => {
    const deployment = JSON.parse(readFileSync(path.join(dataDir, "deployment.json"), "utf8")) as Deployment;
    const demo = JSON.parse(readFileSync(path.join(dataDir, "demo-accounts.json"), "utf8")) as DemoAccountsFile;
    const supplier = demo.accounts.find((a) => a.persona === "supplier-excellent")!;
    const run = await startReady(dataDir, await freePort(), ["--fresh", "--no-seed", "--no-service"]);
    expect(run.output()).to.include(`--fresh: wiping ${dataDir}`);
    expect(run.output()).to.match(/new embedded Hardhat network/);
    expect(() => readFileSync(path.join(dataDir, "demo-accounts.json"))).to.throw(/ENOENT/);
    const fresh = JSON.parse(readFileSync(path.join(dataDir, "deployment.json"), "utf8")) as Deployment;
    expect(fresh.genesisHash).not.to.equal(deployment.genesisHash);
    const { publicClient } = clientsFor(run.chainUrl, supplier.address);
    const participant = await publicClient.readContract({
      address: fresh.contracts.ParticipantRegistry,
      abi: abiOf("ParticipantRegistry"),
      functionName: "participant",
      args: [supplier.address],
    });
    expect((participant as { roles: number }).roles).to.equal(0);
    const admitted = await publicClient.getContractEvents({
      address: fresh.contracts.ParticipantRegistry,
      abi: abiOf("ParticipantRegistry"),
      eventName: "ParticipantAdmitted",
      fromBlock: 0n,
    });
    expect(admitted).to.have.length(0);
    run.child.kill("SIGINT");
    expect(await run.exited).to.equal(0);
  });
});
