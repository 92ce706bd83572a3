/**
 * `npm run bench:reader`: the memory of a reader process (SERVICE_ROLE=reader: no index in memory,
 * each enterprise's metrics from its slice of the committed index) against an indexing process's, as
 * the index grows, and what a metrics read costs on each (issue 17, "memory stays flat as the index
 * grows").
 *
 * 1. Starts `hardhat node` (a child process), deploys, admits a buyer, a lender, a bulk supplier and
 *    BENCH_ENTERPRISES measured suppliers (default 8), and gives each measured supplier a small history
 *    (BENCH_ORDERS_EACH completed orders with acknowledged invoices, default 5).
 * 2. Starts two service processes on one fresh PostgreSQL database (DATABASE_URL's server when set,
 *    otherwise embedded PostgreSQL from npm), compiled as operators run them: one indexing, one reader.
 * 3. For each size of BENCH_SIZES (events in the index, default "100000,400000"), grows the index to
 *    about that size with the bulk supplier's split receivables (scripts/lib/split-history.ts), waits
 *    until both processes answer at the head, then reads each measured supplier's metrics on each
 *    process: once cold (the first read after the growth: the reader loads the slice) and
 *    BENCH_READS times warm (default 50). Then prints each process's resident memory (now and its
 *    peak, from /proc) and V8 heap (in use, and live after the last full collection, from /metrics).
 *    Then BENCH_PREFILLS times (default 3) each measured supplier's application form
 *    (/api/applications/prefill): its advances read the tier of its debtor, the buyer the bulk supplier
 *    sells to, whose records are most of the index (an anchor buyer); a reader counts them in the
 *    database (metrics/debtor-tier.ts). And as often a quote on its pledgeable receivables
 *    (/api/applications/quote): the same tiers, its metrics and its fraud screen (on a reader, read on
 *    demand: store/on-demand.ts). And as often an application on the same terms
 *    (POST /api/applications): each measured supplier has granted the lender its consent, so the
 *    application is checked and decided in the request (on a reader, read on demand and counted as a
 *    quote is), then withdrawn (not timed) to free its receivables for the next.
 * 4. Measures how far behind the head each process answers: BENCH_LAG_SAMPLES times (default 10), a
 *    new order is mined at the head, and the time from its receipt until each process's /healthz
 *    reports its block (the indexing process: indexed in memory; the reader: committed by the indexing
 *    process and polled) is taken.
 * 5. Moves the chain's time past every invoice's maturity and times the buyer's tier counts in the
 *    database (store/postgres/index-reader.ts debtorCounts) with every invoice of it matured: the most
 *    invoices one count reads (one row each: what its split tree paid by maturity is kept on it).
 *    Then BENCH_BACKTESTS times (default 3) the bulk supplier's own metrics, whose records are most of
 *    the index, and as often again each after a commit of another enterprise's new order (a reader
 *    answers from what it kept: index_changes), and as often after a commit of its own new order (a
 *    reader that keeps the slice's records, READER_KEPT_KEYS, reads only the keys that changed), and
 *    the lender's back-test of policy v1 on each process
 *    (POST /api/backtest: every supplier's month ends over the year, the bulk supplier's included),
 *    each with each process's peak RSS before and after.
 * Between 3 and 5, a measured supplier's own metrics at BENCH_RATE req/s (default 500; 0: not run) for
 * BENCH_PACED_S seconds (default 10) on each process, before any read of the bulk supplier's and again
 * after its application (its slice kept): p50 and p99 of each, and the p99's ratio.
 * Prints, per process, the memory at the last size against the first (a ratio of the same run).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keccak256, toHex, type Address } from "viem";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";
import { ENDED_STATUSES } from "../../node-service/src/applications/types";
import { ROLE } from "../../node-service/src/chain/eip712";
import {
  admit,
  createDeliveredOrder,
  createOrder,
  deployContracts,
  issueConfirmedReceivable,
  send,
  startHardhatNode,
  type Net,
} from "../lib/chain-helpers";
import { BenchChildren, siweSignIn } from "../lib/bench-children";
import { EVENTS_PER_ROOT, rpc, splitReceivables } from "../lib/split-history";
import { openDatabase } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexReader } from "../../node-service/src/store/postgres/index-reader";
import { DAY } from "../../node-service/src/domain/time";
import { freshDatabase } from "../lib/test-postgres";
import { compileTypeScript } from "../lib/tsc";
import { pacedLoad, percentile, type PacedResult } from "./paced-load";

const ENTERPRISES = Number(process.env.BENCH_ENTERPRISES ?? 8);
const ORDERS_EACH = Number(process.env.BENCH_ORDERS_EACH ?? 5);
const READS = Number(process.env.BENCH_READS ?? 50);
const PREFILLS = Number(process.env.BENCH_PREFILLS ?? 3);
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 10);
const BACKTESTS = Number(process.env.BENCH_BACKTESTS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const PACED_S = Number(process.env.BENCH_PACED_S ?? 10);
const SIZES = (process.env.BENCH_SIZES ?? "100000,400000").split(",").map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n <= 0))
  throw new Error(`BENCH_SIZES must list positive integers, not ${process.env.BENCH_SIZES}`);
const SCRAPE_TOKEN = `bench-scraper-${"0123456789abcdef".repeat(2)}`;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (v: number) => `${v.toFixed(1)} ms`;

/** VmRSS and VmHWM (the peak) of `pid`, in bytes, from /proc. */
function residentMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1]) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** A process's V8 heap in use and live after its last full collection (NaN before one), from /metrics. */
async function heapOf(base: string): Promise<{ used: number; live: number; events: number; majorGcs: number; majorGcSeconds: number }> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  return {
    used: value("scf_heap_used_bytes"),
    live: value("scf_heap_live_bytes"),
    events: value("scf_indexer_events_total"),
    majorGcs: value('scf_gc_pauses_total\\{kind="major"\\}'),
    majorGcSeconds: value('scf_gc_pause_seconds_total\\{kind="major"\\}'),
  };
}

/** A GET (or, with a body, a POST) that must answer `status`: its time, and its body. */
async function timed(url: string, token: string, json?: unknown, status = 200): Promise<{ ms: number; body: string }> {
  const t0 = performance.now();
  const headers = { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { "content-type": "application/json" }) };
  const res = await fetch(url, json === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(json) });
  const body = await res.text();
  if (res.status !== status) throw new Error(`${url} answered ${res.status}: ${body}`);
  return { ms: performance.now() - t0, body };
}

/** "median / max" of `values` (a dash when there are none). */
function medianAndMax(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? `${ms(percentile(sorted, 50))} / ${ms(sorted[sorted.length - 1])}` : "-";
}

async function main(): Promise<void> {
  console.log(
    `bench:reader — ${ENTERPRISES} measured suppliers with ${ORDERS_EACH} orders each, index grown to ${SIZES.join(", ")} events`,
  );
  compileTypeScript("tsconfig.build.json", "the service");
  const children = new BenchChildren();
  const node = await startHardhatNode();
  const work = await mkdtemp(path.join(os.tmpdir(), "scf-bench-reader-"));
  try {
    const [operator, buyer, lender, bulk, ...rest] = node.wallets;
    const suppliers = rest.slice(0, ENTERPRISES);
    if (suppliers.length < ENTERPRISES) throw new Error(`the node has ${rest.length} accounts for BENCH_ENTERPRISES=${ENTERPRISES}`);
    const net: Net = { publicClient: node.publicClient, deployment: await deployContracts(node.publicClient, operator) };
    await admit(net, operator, [
      { account: buyer.account.address, roles: ROLE.BUYER },
      { account: lender.account.address, roles: ROLE.LENDER },
      { account: bulk.account.address, roles: ROLE.SUPPLIER },
      ...suppliers.map((s) => ({ account: s.account.address, roles: ROLE.SUPPLIER })),
    ]);
    for (const [i, supplier] of suppliers.entries())
      for (let k = 0; k < ORDERS_EACH; k++) {
        const amount = BigInt(10_000 + 100 * (i * ORDERS_EACH + k));
        const orderId = await createDeliveredOrder(net, { buyer, supplier, amount, complete: true });
        await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: amount, invoiceNumber: `reader-${i}-${k}` });
      }
    // A receivable of the bulk supplier worth a loan (its split children are 10 minor units each, and an
    // application pledges at most 10): the first its application form offers.
    const bulkOrder = await createDeliveredOrder(net, { buyer, supplier: bulk, amount: 1_000_000n, complete: true });
    await issueConfirmedReceivable(net, { supplier: bulk, buyer, orderId: bulkOrder, faceValue: 1_000_000n, invoiceNumber: "reader-bulk" });
    // Each measured supplier's consent to the lender, and the bulk supplier's, with every scope the policy
    // reads: their applications are decided at once.
    const consentUntil = Number((await node.publicClient.getBlock()).timestamp) + 2 * 365 * DAY;
    for (const supplier of [...suppliers, bulk])
      await send(net, supplier, "ConsentRegistry", "grant", [
        lender.account.address,
        REQUIRED_SCOPES,
        consentUntil,
        keccak256(toHex("bench")),
      ]);

    const deploymentFile = path.join(work, "deployment.json");
    await writeFile(deploymentFile, JSON.stringify(net.deployment));
    const databaseUrl = await freshDatabase();
    const start = async (name: string, extra: Record<string, string>) => {
      const dataDir = path.join(work, name);
      await mkdir(dataDir);
      const { child, match } = await children.start(
        process.execPath,
        ["dist/node-service/src/server.js"],
        {
          PORT: "0",
          RPC_URL: node.url,
          CHAIN_ID: String(net.deployment.chainId),
          DATA_DIR: dataDir,
          DEPLOYMENT_FILE: deploymentFile,
          DATABASE_URL: databaseUrl,
          LOG_LEVEL: "warn",
          POLL_INTERVAL_MS: "200",
          RATE_LIMIT_PER_MINUTE: "10000000",
          MAX_APPLICATIONS_PER_BORROWER_PER_DAY: "100000",
          METRICS_TOKEN: SCRAPE_TOKEN,
          ...extra,
        },
        /API listening on (http:\/\/\S+)/,
        path.join(work, `${name}.log`),
      );
      return { name, base: match[1], pid: child.pid! };
    };
    const processes = [await start("indexing", {}), await start("reader", { SERVICE_ROLE: "reader" })];
    const tokens = new Map<Address, string>();
    for (const s of suppliers) tokens.set(s.account.address, await siweSignIn(processes[0].base, net.deployment.chainId, s));

    const settled = async () => {
      const head = Number(await node.publicClient.getBlockNumber());
      for (;;) {
        const at = await Promise.all(processes.map(async (p) => (await (await fetch(`${p.base}/healthz`)).json()).indexedBlock as number));
        if (at.every((b) => b === head)) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    /**
     * `times` prefills of the borrower's application form, then as many quotes on the first 10
     * receivables it offers, then as many applications on the same terms (each decided at once, then
     * withdrawn untimed to free its receivables): their times.
     */
    const applyTimed = async (base: string, token: string, times: number) => {
      const prefills: number[] = [];
      const quotes: number[] = [];
      const creations: number[] = [];
      let receivableIds: string[] = [];
      for (let i = 0; i < times; i++) {
        const { ms, body } = await timed(`${base}/api/applications/prefill`, token);
        prefills.push(ms);
        receivableIds = (JSON.parse(body) as { receivables: { id: string }[] }).receivables.map((r) => r.id).slice(0, 10);
      }
      const terms = { receivableIds, termDays: 90, lender: lender.account.address.toLowerCase() };
      let amount = "";
      for (let i = 0; i < times; i++) {
        const { ms, body } = await timed(`${base}/api/applications/quote`, token, terms);
        quotes.push(ms);
        amount = (JSON.parse(body) as { amount: string }).amount;
      }
      for (let i = 0; i < times; i++) {
        const application = { ...terms, amount, scopes: REQUIRED_SCOPES };
        const { ms, body } = await timed(`${base}/api/applications`, token, application, 201);
        creations.push(ms);
        const app = JSON.parse(body) as { id: string; status: string; decision?: unknown };
        if (!app.decision) throw new Error(`application ${app.id} on ${base} was not decided at once (${app.status})`);
        if (!ENDED_STATUSES.has(app.status)) await timed(`${base}/api/applications/${app.id}/withdraw`, token, { reason: "bench" });
      }
      return { prefills, quotes, creations };
    };

    const rows: {
      size: number;
      events: number;
      process: string;
      rss: number;
      peak: number;
      used: number;
      live: number;
      cold: number[];
      warm: number[];
      prefills: number[];
      quotes: number[];
      creations: number[];
    }[] = [];
    for (const size of SIZES) {
      await settled();
      const now = (await heapOf(processes[0].base)).events;
      const roots = Math.max(0, Math.ceil((size - now) / EVENTS_PER_ROOT));
      const t0 = performance.now();
      if (roots > 0) await splitReceivables(node, net, { buyer, supplier: bulk, roots, tag: `grow-${size}`, log: () => undefined });
      await settled();
      const events = (await heapOf(processes[0].base)).events;
      console.log(
        `index grown to ${events} events (${roots} receivables split) and followed by both in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
      for (const p of processes) {
        const cold: number[] = [];
        const warm: number[] = [];
        for (const s of suppliers) {
          const url = `${p.base}/api/enterprises/${s.account.address.toLowerCase()}/metrics`;
          const token = tokens.get(s.account.address)!;
          cold.push((await timed(url, token)).ms);
          for (let i = 0; i < READS; i++) warm.push((await timed(url, token)).ms);
        }
        const prefills: number[] = [];
        const quotes: number[] = [];
        const creations: number[] = [];
        for (const s of suppliers) {
          const times = await applyTimed(p.base, tokens.get(s.account.address)!, PREFILLS);
          prefills.push(...times.prefills);
          quotes.push(...times.quotes);
          creations.push(...times.creations);
        }
        const heap = await heapOf(p.base);
        rows.push({
          size,
          events,
          process: p.name,
          ...residentMemory(p.pid),
          used: heap.used,
          live: heap.live,
          cold,
          warm,
          prefills,
          quotes,
          creations,
        });
      }
    }

    console.log(
      "\n| events | process | RSS now / peak | V8 heap in use / live | metrics read, cold: p50 / max | warm: p50 / p99 | prefill: p50 / max | quote: p50 / max | application, decided: p50 / max |",
    );
    console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of rows) {
      const warm = [...r.warm].sort((a, b) => a - b);
      console.log(
        `| ${r.events} | ${r.process} | ${mb(r.rss)} / ${mb(r.peak)} | ${mb(r.used)} / ${Number.isNaN(r.live) ? "-" : mb(r.live)} | ` +
          `${medianAndMax(r.cold)} | ${ms(percentile(warm, 50))} / ${ms(percentile(warm, 99))} | ` +
          `${medianAndMax(r.prefills)} | ${medianAndMax(r.quotes)} | ${medianAndMax(r.creations)} |`,
      );
    }
    /** A new order of a measured supplier mined at the head; resolves with its block. */
    const newOrderBlock = async () => {
      await createOrder(net, { buyer, supplier: suppliers[0].account.address, amount: 10_000n });
      return Number(await node.publicClient.getBlockNumber());
    };
    /** Resolves once `p` answers from `block` (polled every 20 ms). */
    const reached = async (p: (typeof processes)[number], block: number) => {
      while (((await (await fetch(`${p.base}/healthz`)).json()).indexedBlock as number) < block)
        await new Promise((r) => setTimeout(r, 20));
    };
    // How long after a block is mined each process answers from it.
    const lags = new Map(processes.map((p) => [p.name, [] as number[]]));
    for (let i = 0; i < LAG_SAMPLES; i++) {
      await settled();
      const block = await newOrderBlock();
      const t0 = performance.now();
      await Promise.all(
        processes.map(async (p) => {
          await reached(p, block);
          lags.get(p.name)!.push(performance.now() - t0);
        }),
      );
    }
    for (const [name, values] of lags) {
      const sorted = [...values].sort((a, b) => a - b);
      console.log(
        `${name}: answers from a new block ${ms(percentile(sorted, 50))} after its receipt at the median, ${ms(sorted[sorted.length - 1])} at most (${sorted.length} blocks)`,
      );
    }

    /**
     * A measured supplier's own metrics read (warm) at RATE req/s for PACED_S s on each process, evenly
     * paced (paced-load.ts), with each process's V8 heap in use after it.
     */
    const underLoad = async () => {
      const who = suppliers[0].account.address;
      const runs = new Map<string, { load: PacedResult; heap: number; majorGcs: number; majorGcMs: number }>();
      for (const p of processes) {
        const before = await heapOf(p.base);
        const url = `${p.base}/api/enterprises/${who.toLowerCase()}/metrics`;
        const load = await pacedLoad({
          urls: [url],
          rate: RATE,
          durationS: PACED_S,
          connections: 20,
          headers: { authorization: `Bearer ${tokens.get(who)!}` },
        });
        const after = await heapOf(p.base);
        runs.set(p.name, {
          load,
          heap: after.used,
          majorGcs: after.majorGcs - before.majorGcs,
          majorGcMs: (after.majorGcSeconds - before.majorGcSeconds) * 1000,
        });
      }
      return runs;
    };
    // The baseline of the same run: before the bulk supplier's slice is read (and kept) by any read of its own.
    const loadBefore = RATE > 0 ? await underLoad() : undefined;

    const bulkToken = await siweSignIn(processes[0].base, net.deployment.chainId, bulk);
    // The bulk supplier's own application, before its receivables mature: its form offers every
    // receivable it holds (most of the index), and its quote and decision read its metrics and fraud
    // screen over its whole slice.
    for (const p of processes) {
      const peakBefore = residentMemory(p.pid).peak;
      const t = await applyTimed(p.base, bulkToken, BACKTESTS);
      console.log(
        `${p.name}: the bulk supplier's prefill ${t.prefills.map(ms).join(", ")}, quote ${t.quotes.map(ms).join(", ")}, ` +
          `application decided ${t.creations.map(ms).join(", ")} (the first of each cold); peak RSS ${mb(peakBefore)} -> ${mb(residentMemory(p.pid).peak)}`,
      );
    }
    // The same load again, with the bulk supplier's slice now kept (on a reader, its records within
    // READER_KEPT_KEYS): the collector's work over a larger live heap shows in the tail, if anywhere.
    if (loadBefore) {
      const loadAfter = await underLoad();
      for (const p of processes) {
        const [a, b] = [loadBefore.get(p.name)!, loadAfter.get(p.name)!];
        const figures = (r: { load: PacedResult; heap: number; majorGcs: number; majorGcMs: number }) =>
          `p50 ${ms(r.load.p50)} / p99 ${ms(r.load.p99)} at ${r.load.rps.toFixed(0)} req/s (${r.load.non2xx} not 2xx, client loop p99 ${ms(r.load.clientLoop.p99)}), ` +
          `${r.majorGcs} major collections pausing ${ms(r.majorGcMs)} in all, heap in use ${mb(r.heap)}`;
        console.log(
          `${p.name}: a measured supplier's metrics at ${RATE} req/s for ${PACED_S} s: ${figures(a)} before the bulk supplier's slice was read; ` +
            `${figures(b)} with it kept; p99 ${(b.load.p99 / a.load.p99).toFixed(2)}x`,
        );
      }
    }
    // The anchor buyer's tier with every invoice it owes matured (none paid): every original invoice counted.
    await rpc(node, "evm_increaseTime", [200 * DAY]);
    await rpc(node, "evm_mine");
    await settled();
    const db = await openDatabase(databaseUrl, { max: 1 });
    try {
      const end = Number((await node.publicClient.getBlock()).timestamp);
      const reader = createPostgresIndexReader(db);
      const times: number[] = [];
      let counts = { purchases: 0, matured: 0, late: 0 };
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        counts = await reader.direct.debtorCounts(buyer.account.address, end, end - 365 * DAY);
        times.push(performance.now() - t0);
      }
      console.log(
        `\nthe buyer's tier counts with every invoice matured, 365 days (${counts.purchases} purchase orders, ${counts.matured} invoices ` +
          `matured, ${counts.late} late): ${times.map(ms).join(", ")} (the first cold)`,
      );
    } finally {
      await db.close();
    }
    // The bulk supplier's own metrics (its records are most of the index): what one enterprise's slice
    // costs each process when that slice is nearly the whole index.
    for (const p of processes) {
      const peakBefore = residentMemory(p.pid).peak;
      const url = `${p.base}/api/enterprises/${bulk.account.address.toLowerCase()}/metrics`;
      const times: number[] = [];
      for (let i = 0; i < BACKTESTS; i++) times.push((await timed(url, bulkToken)).ms);
      console.log(
        `${p.name}: the bulk supplier's metrics ${times.map(ms).join(", ")} (the first cold); peak RSS ${mb(peakBefore)} -> ${mb(residentMemory(p.pid).peak)}`,
      );
    }
    // Then a commit of another enterprise's event (a measured supplier's new order): the bulk supplier's
    // records did not change, so a reader answers from what it kept (index_changes) instead of its slice again.
    for (let i = 0; i < BACKTESTS; i++) {
      const block = await newOrderBlock();
      await Promise.all(processes.map((p) => reached(p, block)));
      for (const p of processes) {
        const { ms: took } = await timed(`${p.base}/api/enterprises/${bulk.account.address.toLowerCase()}/metrics`, bulkToken);
        console.log(`${p.name}: the bulk supplier's metrics after another enterprise's commit (block ${block}): ${ms(took)}`);
      }
    }
    // Then a commit of its own (the buyer's new order to the bulk supplier): its slice changed. A reader
    // that keeps the slice's records (READER_KEPT_KEYS) reads again only the keys that changed; one that
    // does not, the whole slice.
    for (let i = 0; i < BACKTESTS; i++) {
      await createOrder(net, { buyer, supplier: bulk.account.address, amount: 10_000n });
      const block = Number(await node.publicClient.getBlockNumber());
      await Promise.all(processes.map((p) => reached(p, block)));
      for (const p of processes) {
        const peakBefore = residentMemory(p.pid).peak;
        const { ms: took } = await timed(`${p.base}/api/enterprises/${bulk.account.address.toLowerCase()}/metrics`, bulkToken);
        console.log(
          `${p.name}: the bulk supplier's metrics after a commit of its own new order (block ${block}): ${ms(took)}; peak RSS ${mb(peakBefore)} -> ${mb(residentMemory(p.pid).peak)}`,
        );
      }
    }
    // The back-test (policy v1, as the lender, the year to now): every supplier's month ends, the bulk
    // supplier's included (its slice is most of the index); on a reader read borrower by borrower on demand.
    const lenderToken = await siweSignIn(processes[0].base, net.deployment.chainId, lender);
    for (const p of processes) {
      const peakBefore = residentMemory(p.pid).peak;
      const times: number[] = [];
      let cases = "";
      for (let i = 0; i < BACKTESTS; i++) {
        const run = await timed(`${p.base}/api/backtest`, lenderToken, { policyVersion: "v1" });
        times.push(run.ms);
        const c = (JSON.parse(run.body) as { cases: { applications: number; monthly: number } }).cases;
        cases = `${c.applications} past applications, ${c.monthly} monthly cases`;
      }
      console.log(
        `${p.name}: the back-test (${cases}) ${times.map(ms).join(", ")} (the first cold); peak RSS ${mb(peakBefore)} -> ${mb(residentMemory(p.pid).peak)}`,
      );
    }
    for (const p of processes) {
      const mine = rows.filter((r) => r.process === p.name);
      const [first, last] = [mine[0], mine[mine.length - 1]];
      console.log(
        `${p.name}: ${first.events} -> ${last.events} events (${(last.events / first.events).toFixed(1)}x): ` +
          `RSS ${(last.rss / first.rss).toFixed(2)}x, peak RSS ${(last.peak / first.peak).toFixed(2)}x, heap in use ${(last.used / first.used).toFixed(2)}x`,
      );
    }
  } catch (err) {
    // What the services said last, before their directory goes (a refusal's cause is in their logs).
    for (const name of ["indexing", "reader"]) {
      const file = path.join(work, `${name}.log`);
      if (existsSync(file)) console.error(`--- the end of ${name}.log:\n${readFileSync(file, "utf8").slice(-4000)}`);
    }
    throw err;
  } finally {
    children.stop();
    await node.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
