/**
 * Service processes of their own for the several-processes tests (pg-failover, pg-processes): a child
 * `node-service/src/server.ts` per process, configured by environment, on a free loopback port.
 */
import { expect } from "chai";
import hre from "hardhat";
import type { PublicClient } from "viem";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { REPO_ROOT, type Deployment } from "../../node-service/src/chain/contracts";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import { createLowdbIndexStore } from "../../node-service/src/store/index-store";
import type { Database } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexStore } from "../../node-service/src/store/postgres/index-store";
import { encodeIndexState } from "../../node-service/src/store/state-codec";
import { ROLE } from "../../node-service/src/chain/eip712";
import { admit, deployContracts, startHardhatNode, type HardhatNode, type Net, type Wallet } from "../../scripts/lib/chain-helpers";
import { freshDatabase } from "../../scripts/lib/test-postgres";

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<void>;
  /** What the process printed (stdout and stderr), its last 64 KiB: shown when a wait on it times out. */
  output(): string;
}

const OUTPUT_KEPT = 64 * 1024;

export function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "node-service/src/server.ts"], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 90_000);
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 2 * OUTPUT_KEPT) output = output.slice(-OUTPUT_KEPT);
    };
    let listening = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      keep(chunk);
      const m = listening ? null : /API listening on (\S+)/.exec(output);
      if (m) {
        listening = true;
        clearTimeout(timer);
        resolve({ url: m[1], child, exited, output: () => output.slice(-OUTPUT_KEPT) });
      }
    });
    child.stderr!.on("data", keep);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output}`));
    });
  });
}

export interface AdmittedNetwork {
  net: Net;
  parties: Record<"operator" | "buyer" | "supplier" | "lender", Wallet>;
}

/**
 * The contracts deployed on `node` (a `hardhat node`, or the in-process network: hardhatNetwork()), and a
 * buyer, a supplier and a lender admitted (its wallets 1-3; 0 operates).
 */
export async function admittedNetwork(node: Pick<HardhatNode, "publicClient" | "wallets">): Promise<AdmittedNetwork> {
  const [operator, buyer, supplier, lender] = node.wallets;
  const net: Net = { publicClient: node.publicClient, deployment: await deployContracts(node.publicClient, operator) };
  await admit(net, operator, [
    { account: buyer.account.address, roles: ROLE.BUYER },
    { account: supplier.account.address, roles: ROLE.SUPPLIER },
    { account: lender.account.address, roles: ROLE.LENDER },
  ]);
  return { net, parties: { operator, buyer, supplier, lender } };
}

/** Hardhat's in-process network (the one `npx hardhat test` runs on), as admittedNetwork takes it. */
export async function hardhatNetwork(): Promise<Pick<HardhatNode, "publicClient" | "wallets">> {
  return {
    publicClient: (await hre.viem.getPublicClient()) as unknown as PublicClient,
    wallets: (await hre.viem.getWalletClients()) as unknown as Wallet[],
  };
}

export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The node, processes and directories of one describe block: see useServiceProcesses. */
export class ServiceProcesses {
  node?: HardhatNode;
  /** Stopped by the after hook (a test that kills one itself takes it out). */
  readonly processes: ServiceProcess[] = [];
  /** Every process started, killed or not: a failed test prints what each printed. */
  readonly started: ServiceProcess[] = [];
  /** Removed by the after hook. */
  readonly dirs: string[] = [];

  /** Every node started, the latest in `node`: the after hook stops them all. */
  readonly nodes: HardhatNode[] = [];

  /** A `hardhat node` over HTTP, stopped by the after hook. */
  async startNode(): Promise<HardhatNode> {
    this.node = await startHardhatNode();
    this.nodes.push(this.node);
    return this.node;
  }

  /** startNode with admittedNetwork on it. */
  async startNetwork(): Promise<AdmittedNetwork> {
    return admittedNetwork(await this.startNode());
  }

  /**
   * A working directory (prefix `prefix`) holding the deployment file, a fresh PostgreSQL database, and
   * the environment of a process named `name` on them: the node's URL, its own DATA_DIR, a free loopback
   * port, polling every 100 ms, no rate limits to speak of, plus `extra`.
   */
  async workspace(prefix: string, deployment: Deployment, extra: Record<string, string> = {}) {
    const work = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(work);
    const deploymentFile = path.join(work, "deployment.json");
    await writeFile(deploymentFile, JSON.stringify(deployment));
    const databaseUrl = await freshDatabase();
    const env = (name: string): Record<string, string> => ({
      RPC_URL: this.node!.url,
      CHAIN_ID: "31337",
      DEPLOYMENT_FILE: deploymentFile,
      DATA_DIR: path.join(work, name),
      DATABASE_URL: databaseUrl,
      PORT: "0",
      HOST: "127.0.0.1",
      POLL_INTERVAL_MS: "100",
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_MINUTE: "100000",
      SIGN_INS_PER_MINUTE: "100000",
      ...extra,
    });
    return { databaseUrl, env };
  }

  /** startServiceProcess, stopped by the after hook. */
  async start(env: Record<string, string>): Promise<ServiceProcess> {
    const p = await startServiceProcess(env);
    this.processes.push(p);
    this.started.push(p);
    return p;
  }
}

/**
 * Registers, in the calling describe block, the hooks of the several-processes tests: a failed test
 * prints what every process printed; at the end every process still running gets SIGTERM and is
 * awaited, every node stops, the directories are removed.
 */
export function useServiceProcesses(): ServiceProcesses {
  const fixture = new ServiceProcesses();
  afterEach(function () {
    if (this.currentTest?.state !== "failed") return;
    fixture.started.forEach((p, i) => console.log(`--- service process ${i + 1} (${p.url}) printed:\n${p.output()}`));
  });
  after(async () => {
    for (const p of fixture.processes) {
      p.child.kill("SIGTERM");
      await p.exited;
    }
    for (const node of fixture.nodes) await node.stop();
    for (const d of fixture.dirs) await rm(d, { recursive: true, force: true });
  });
  return fixture;
}

/**
 * Nothing lost: the index in the database (checkpoint and state) equals a fresh rebuild of the chain by
 * an indexer of its own (lowdb, in a directory the fixture removes).
 */
export async function expectIndexEqualsFreshRebuild(fixture: ServiceProcesses, net: Net, db: Database): Promise<void> {
  const freshDir = await mkdtemp(path.join(os.tmpdir(), "fresh-index-"));
  fixture.dirs.push(freshDir);
  const fresh = await createIndexer({
    publicClient: net.publicClient,
    deployment: net.deployment,
    dataDir: freshDir,
    store: await createLowdbIndexStore(freshDir),
    logger: pino({ level: "silent" }),
  });
  await fresh.syncOnce();
  await fresh.stop();
  const saved = (await (await createPostgresIndexStore(db)).load())!;
  expect(saved.checkpoint).to.deep.equal(fresh.checkpoint());
  expect(JSON.parse(JSON.stringify(encodeIndexState(saved.state)))).to.deep.equal(
    JSON.parse(JSON.stringify(encodeIndexState(fresh.state()))),
  );
}
