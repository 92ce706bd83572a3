/**
 * `npm start`: the whole network on one machine. Compiles if needed, starts the embedded Hardhat chain
 * (replaying its journal when there is one), deploys and seeds the demo network on the first start,
 * then starts the service (indexer, API, web UI) and prints the URL and the test accounts' roles.
 *
 *   npm start                  resume (or create) the network in DATA_DIR (default ./data)
 *   npm start -- --fresh       wipe DATA_DIR and start over
 *   options: --seed N (demo seed number, default SEED or 1), --no-seed, --no-service
 *   env: DATA_DIR, CHAIN_PORT (default 8545), DEPLOYMENT_FILE (default DATA_DIR/deployment.json),
 *        and the service's own keys (PORT, HOST, ...; see node-service/src/config.ts)
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Address, Transport } from "viem";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { startEmbeddedChain, journalFileOf, type EmbeddedChain } from "./lib/embedded-chain";
import { ensureDeployment } from "./lib/deployment-file";
import { publicClientFor, transportOf, walletClientFor } from "./lib/clients";
import { writeParticipantNames } from "../node-service/src/participants/directory";
import { demoAccountsFileOf, readDemoAccounts, writeDemoAccounts, type DemoAccountsFile } from "./lib/demo-accounts";
import { writeFileAtomic } from "../node-service/src/store/atomic-file";
import { DAY_MS } from "../node-service/src/domain/time";
import { formatSeedStats, seedDemo } from "./seed";

/** How far the first start got: a start interrupted before "ready" is redone from scratch. */
interface SetupState {
  phase: "deploying" | "seeding" | "ready";
  seed: number | null;
  at: string;
}

interface RunningService {
  url?: string;
  port?: number;
  close?: () => Promise<void> | void;
}

function fail(message: string): never {
  throw Object.assign(new Error(message), { name: "StartError" });
}

function parsePort(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined || text === "") return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`${name}=${text} is not a TCP port (0-65535)`);
  return port;
}

/** --fresh deletes a whole directory: never one that looks like a repository, home or root. */
async function wipeDataDir(dataDir: string): Promise<void> {
  const forbidden = [path.parse(dataDir).root, os.homedir(), process.cwd()];
  if (forbidden.includes(dataDir) || existsSync(path.join(dataDir, "package.json")) || existsSync(path.join(dataDir, ".git"))) {
    fail(`refusing to wipe ${dataDir}: it does not look like a data directory (set DATA_DIR to a dedicated directory)`);
  }
  await rm(dataDir, { recursive: true, force: true });
}

async function readSetup(file: string): Promise<SetupState | null> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as SetupState;
  } catch {
    return null;
  }
}

async function writeSetup(file: string, state: Omit<SetupState, "at">): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify({ ...state, at: new Date().toISOString() }, null, 2)}\n`);
}

/** The service module is written separately; until it exists `npm start` runs the chain alone. */
type StartService = (config: unknown, options: { transport?: Transport; serviceAccount?: `0x${string}` }) => Promise<RunningService>;

async function loadService(): Promise<StartService | null> {
  const file = path.join(__dirname, "../node-service/src/server.ts");
  if (!existsSync(file)) return null;
  const mod = (await import("../node-service/src/server" as string)) as { startService?: StartService };
  if (typeof mod.startService !== "function") fail("node-service/src/server.ts does not export startService(config)");
  return mod.startService;
}

/** Newest modification time under `dir` (files only), 0 when it does not exist. */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** web/dist is not in git: build the UI with Vite when it is missing or older than its sources. */
function buildWebIfNeeded(): void {
  const web = path.join(__dirname, "../web");
  if (!existsSync(path.join(web, "index.html"))) return;
  const built = path.join(web, "dist/index.html");
  const sources = Math.max(newestMtime(path.join(web, "src")), statSync(path.join(web, "index.html")).mtimeMs);
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(__dirname, "../node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], {
    cwd: web,
    stdio: "inherit",
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: "true" },
  });
  if (result.status !== 0) fail("building the web UI (vite build in web/) failed");
  console.log(`web UI built (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function printAccounts(demo: DemoAccountsFile): void {
  console.log('\nTest accounts (Hardhat\'s well-known keys, mnemonic "test test ... junk"; local use only):');
  for (const a of demo.accounts) {
    const roles = a.roles.length > 0 ? a.roles.join("+") : "OPERATOR";
    console.log(`  #${String(a.index).padEnd(2)} ${a.address}  ${a.name.padEnd(30)} ${roles.padEnd(16)} ${a.note}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fresh: { type: "boolean", default: false },
      seed: { type: "string" },
      "no-seed": { type: "boolean", default: false },
      "no-service": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: npm start -- [--fresh] [--seed N] [--no-seed] [--no-service]\n  env: DATA_DIR, CHAIN_PORT, DEPLOYMENT_FILE, PORT, HOST",
    );
    return;
  }
  const dataDir = path.resolve(process.env.DATA_DIR || "data");
  const deploymentFile = path.resolve(process.env.DEPLOYMENT_FILE || path.join(dataDir, "deployment.json"));
  const chainPort = parsePort(process.env.CHAIN_PORT, 8545, "CHAIN_PORT");
  const seedNumber = Number(values.seed ?? process.env.SEED ?? 1);
  if (!Number.isInteger(seedNumber)) fail(`--seed ${values.seed} is not an integer`);
  const setupFile = path.join(dataDir, "setup.json");

  const setup = await readSetup(setupFile);
  // A deployment file outside DATA_DIR is not deleted: ensureDeployment sets it aside when it no longer matches.
  if (values.fresh) {
    console.log(`--fresh: wiping ${dataDir}`);
    await wipeDataDir(dataDir);
  } else if (setup && setup.phase !== "ready") {
    console.log(`the first start was interrupted while ${setup.phase}: starting over`);
    await wipeDataDir(dataDir);
  }
  await mkdir(dataDir, { recursive: true });
  const newChain = !existsSync(journalFileOf(dataDir));
  const willSeed = newChain && !values["no-seed"];

  process.env.HARDHAT_NETWORK = "hardhat";
  process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = "true";
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hre = require("hardhat") as HardhatRuntimeEnvironment;
  const compileStart = Date.now();
  await hre.run("compile", { quiet: true });
  console.log(`contracts compiled (${((Date.now() - compileStart) / 1000).toFixed(1)} s)`);
  if (!values["no-service"]) buildWebIfNeeded();

  let chain: EmbeddedChain | undefined = undefined;
  let service: RunningService | undefined;
  let stopping = 0;
  const stop = async (signal: string) => {
    // A signal sent to the whole process group (Ctrl-C, `kill -- -PGID`) reaches this process twice:
    // directly and forwarded by npm. Only a repeat after a second forces the exit.
    if (stopping) {
      if (Date.now() - stopping < 1000) return;
      console.log("forced exit");
      process.exit(130);
    }
    stopping = Date.now();
    console.log(`\n${signal}: stopping`);
    setTimeout(() => {
      console.log("still stopping after 10 s: forced exit");
      process.exit(1);
    }, 10_000).unref();
    try {
      await service?.close?.();
      await chain?.close();
    } finally {
      process.exit(0);
    }
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGHUP", () => void stop("SIGHUP"));
  // npm killed (even with SIGKILL): this process is re-parented; stop rather than linger as an orphan holding the ports.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop("the parent process exited");
  }, 500).unref();

  // Recorded before the chain journal exists: a kill right after creating it restarts from scratch
  // instead of resuming an empty, unseeded chain.
  if (newChain) await writeSetup(setupFile, { phase: "deploying", seed: willSeed ? seedNumber : null });
  // A seeded history ends now, so the chain starts a year and a bit in the past.
  chain = await startEmbeddedChain({
    hre,
    dataDir,
    port: chainPort,
    initialDate: willSeed ? new Date(Date.now() - 367 * DAY_MS) : new Date(),
    log: (m) => console.log(`chain: ${m}`),
  });
  console.log(`chain: ${chain.resumed ? `restored from ${chain.journalFile}` : "new embedded Hardhat network"}, JSON-RPC on ${chain.url}`);

  const publicClient = await publicClientFor(chain.provider);
  const addresses = (await publicClient.request({ method: "eth_accounts" } as never)) as Address[];
  const walletClients = addresses.map((a) => walletClientFor(publicClient, chain.provider, a));

  const { deployment } = await ensureDeployment({
    publicClient,
    walletClient: walletClients[0],
    file: deploymentFile,
    log: (m) => console.log(m),
  });

  const demoFile = demoAccountsFileOf(dataDir);
  if (willSeed) {
    await writeSetup(setupFile, { phase: "seeding", seed: seedNumber });
    console.log(`seeding the demo network (seed ${seedNumber}): 12 months of trade`);
    const result = await seedDemo({
      publicClient,
      walletClients,
      deployment,
      seed: seedNumber,
      endAt: Math.floor(Date.now() / 1000),
      onProgress: (p) => console.log(`  [${p.step}/${p.total}] ${p.label}`),
    });
    await writeDemoAccounts(demoFile, result.demoAccounts);
    await writeParticipantNames(dataDir, result.participantNames);
    console.log(formatSeedStats(result.stats));
  }
  if (newChain) await writeSetup(setupFile, { phase: "ready", seed: willSeed ? seedNumber : null });

  let url = chain.url;
  const startService = values["no-service"] ? null : await loadService();
  if (startService) {
    const { loadConfig } = await import("../node-service/src/config");
    const config = loadConfig(process.env, {
      RPC_URL: chain.url,
      CHAIN_ID: chain.chainId,
      DEPLOYMENT_FILE: deploymentFile,
      DATA_DIR: dataDir,
      DEV_ACCOUNTS: true,
    });
    // In process: the service reads the chain through the journaling provider, without HTTP.
    // The operator's account (unlocked on the embedded chain, admitted as auditor by the seed) is the
    // service's own: it anchors document batches and decisions and submits countersigned agreements.
    service = await startService(config, {
      transport: transportOf(chain.provider),
      serviceAccount: walletClients[0].account.address,
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE")
        fail(
          `port ${config.PORT} on ${config.HOST} is already in use: stop whatever listens there or choose another port with PORT=<port>`,
        );
      throw err;
    });
    url = service.url ?? `http://${config.HOST}:${service.port ?? config.PORT}`;
  } else if (!values["no-service"]) {
    console.log("the service (node-service/src/server.ts) is not there yet: running the chain only");
  }

  const demo = await readDemoAccounts(demoFile);
  if (demo) printAccounts(demo);
  else console.log("\nno demo network on this chain (started with --no-seed); `npm start -- --fresh` seeds one");
  console.log(`\nready in ${process.uptime().toFixed(1)} s`);
  console.log(`Open ${url}${startService ? "" : "  (JSON-RPC of the embedded chain)"}    Ctrl-C stops everything`);
}

main().catch((err: unknown) => {
  console.error(`\nnpm start failed: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.DEBUG_START && err instanceof Error) console.error(err.stack);
  process.exit(1);
});
