/**
 * `npm start` as the user runs it (npm, then the start script): SIGTERM or SIGINT to npm, to the whole
 * process group, or to the start script itself stops everything it started (the chain's and the
 * service's ports are free again) and exits 0. And a kill right after the chain journal is created
 * restarts from scratch instead of resuming an empty, unseeded chain.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";
import { journalFileOf } from "../../scripts/lib/embedded-chain";
import { freePort, killAll, spawnTs, startReady, waitForOutput, type Spawned } from "./processes";

interface NpmRun extends Spawned {
  url: string;
  chainPort: number;
}

const running = new Set<ChildProcess>();

/** `npm start -- --no-seed` in its own process group, once it printed "ready in". */
async function npmStart(dataDir: string): Promise<NpmRun> {
  const chainPort = await freePort();
  const child = spawn("npm", ["start", "--", "--no-seed"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      CHAIN_PORT: String(chainPort),
      PORT: "0",
      LOG_LEVEL: "warn",
      HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const run = { child, output: () => text, exited };
  await waitForOutput(run, /ready in [\d.]+ s/, 180_000);
  const url = /Open (http:\/\/\S+)/.exec(text)![1];
  return { ...run, url, chainPort };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

function childrenOf(pid: number): Promise<number[]> {
  return new Promise((resolve) => {
    const ps = spawn("ps", ["-o", "pid=", "--ppid", String(pid)], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    ps.stdout.on("data", (d: Buffer) => (out += d.toString()));
    ps.once("exit", () => resolve(out.split(/\s+/).filter(Boolean).map(Number)));
  });
}

async function expectAllStopped(run: NpmRun, exitCode: number | null): Promise<void> {
  expect(exitCode, run.output()).to.equal(0);
  expect(await portFree(run.chainPort)).to.equal(true);
  expect(await portFree(Number(new URL(run.url).port))).to.equal(true);
}

describe("npm start stops everything on SIGTERM and SIGINT and exits 0", function () {
  this.timeout(600_000);
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "scf-signals-"));
  });

  after(() => {
    for (const child of running) if (child.pid) process.kill(-child.pid, "SIGKILL");
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("SIGTERM to npm", async () => {
    const run = await npmStart(dataDir);
    run.child.kill("SIGTERM");
    await expectAllStopped(run, await run.exited);
    expect(run.output()).to.include("SIGTERM: stopping");
  });

  it("SIGTERM to the whole process group", async () => {
    const run = await npmStart(dataDir);
    process.kill(-run.child.pid!, "SIGTERM");
    await expectAllStopped(run, await run.exited);
    expect(run.output()).to.not.include("forced exit");
  });

  it("SIGINT to the start script itself (npm's child)", async () => {
    const run = await npmStart(dataDir);
    const [script] = await childrenOf(run.child.pid!);
    expect(script, "npm's child").to.be.a("number");
    process.kill(script, "SIGINT");
    await expectAllStopped(run, await run.exited);
  });
});

describe("npm start killed right after creating the chain journal", function () {
  this.timeout(600_000);
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "scf-early-kill-"));
  });

  after(() => {
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("starts over and seeds on the next start, instead of resuming an unseeded chain", async () => {
    const chainPort = await freePort();
    const env = { DATA_DIR: dataDir, CHAIN_PORT: String(chainPort), PORT: "0", LOG_LEVEL: "warn" };
    const first = spawnTs(["scripts/start.ts", "--no-service"], env);
    const journal = journalFileOf(dataDir);
    const deadline = Date.now() + 120_000;
    while (!existsSync(journal)) {
      if (Date.now() > deadline) throw new Error(`no chain journal after 120 s:\n${first.output()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    first.child.kill("SIGKILL");
    await first.exited;
    const second = await startReady(env, ["--no-service"]);
    expect(second.output()).to.include("the first start was interrupted while deploying: starting over");
    expect(second.output()).to.match(/seeded 20 participants/);
    expect(second.output()).to.not.include("--no-seed");
    second.child.kill("SIGTERM");
    expect(await second.exited).to.equal(0);
  });
});
