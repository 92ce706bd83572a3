/**
 * The service in external mode, on each of three nodes run as their own processes (real JSON-RPC
 * servers over HTTP): `hardhat node`, Anvil (from its npm package), and a zero-fee Anvil
 * (`--base-fee 0 --disable-min-priority-fee`, as a free-gas consortium chain) where every account that
 * sends holds no ether and every sender is configured with MAX_FEE_PER_GAS=0 and
 * MAX_PRIORITY_FEE_PER_GAS=0. On each: the contracts deployed by scripts/deploy.ts, participants
 * admitted with the operator's key, and the service started from server.ts with nothing but
 * environment variables, its key included. Then one order-to-loan path driven by viem wallet clients
 * with local keys (as on a consortium chain, the node holds no key) and checked through the API.
 * Nothing here relies on a node's clock habits: Hardhat adds a second per block, Anvil's automine
 * repeats its parent's timestamp.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  keccak256,
  toHex,
  zeroHash,
  type Account,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { abiOf, type Deployment } from "../../node-service/src/chain/contracts";
import { ROLE, SCOPE } from "../../node-service/src/chain/eip712";
import { chainOf } from "../../scripts/lib/clients";
import type { FeeFields } from "../../node-service/src/chain/fees";
import { createTxSender, TxFailedError } from "../../node-service/src/chain/sender";
import { call, siweMessage } from "../service/api-helpers";
import {
  admit,
  createDeliveredOrder,
  fundAndApprove,
  issueConfirmedReceivable,
  latestTime,
  send,
  totalDue,
  DAY,
  type Net,
  type Wallet,
  DEV_MNEMONIC,
} from "../../scripts/lib/chain-helpers";
import { freePort, killAll, spawnTs, startAnvil, startHardhatNode, waitForOutput, type Spawned } from "./processes";

// Hardhat's well-known test mnemonic: public knowledge, used on this throwaway dev chain only.
const FACE = 2_000_000n; // 20,000.00: above the farmed-history screen's "small order" cap
const PRINCIPAL = 1_000_000n;
const TERM_DAYS = 30;

function hdAccount(index: number) {
  return mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index });
}

function privateKeyOf(index: number): Hex {
  return toHex(hdAccount(index).getHdKey().privateKey!);
}

const lower = (a: Address) => a.toLowerCase() as Address;

async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnTs(args, env);
  const code = await child.exited;
  return { code, output: child.output() };
}

async function signIn(base: string, wallet: Wallet): Promise<string> {
  const message = await siweMessage(base, wallet.account.address);
  const signature = await wallet.signMessage({ message, account: wallet.account });
  const res = await call(base, "POST", "/api/auth/verify", { body: { message, signature } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body.token as string;
}

/** Polls until `check` returns a value (not undefined), or fails naming what it waited for. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface NodeUnderTest {
  title: string;
  start(port: number): Promise<Spawned>;
  /** Fee settings given to the deploy script and the service, and used by the test's own wallets. */
  feeEnv: Record<string, string>;
  fees: FeeFields;
  /** Empty every test account's balance first: a free-gas chain must need none. */
  noBalances?: boolean;
  hardhat?: boolean;
}

const NODES: NodeUnderTest[] = [
  { title: "hardhat node", start: (port) => startHardhatNode(port), feeEnv: {}, fees: {}, hardhat: true },
  { title: "Anvil", start: (port) => startAnvil(port), feeEnv: {}, fees: {} },
  {
    title: "zero-fee Anvil, accounts without balance",
    start: (port) => startAnvil(port, ["--base-fee", "0", "--disable-min-priority-fee"]),
    feeEnv: { MAX_FEE_PER_GAS: "0", MAX_PRIORITY_FEE_PER_GAS: "0" },
    fees: { type: "eip1559", maxFeePerGas: 0n, maxPriorityFeePerGas: 0n },
    noBalances: true,
  },
];

for (const node of NODES) describeExternalNode(node);

function describeExternalNode(node: NodeUnderTest): void {
  describe(`the service against an external node (${node.title} over HTTP)`, function () {
    this.timeout(300_000);
    let dir: string;
    let rpcUrl: string;
    let publicClient: PublicClient;
    let deployment: Deployment;
    let net: Net;
    let service: Spawned;
    let serviceEnv: Record<string, string>;
    let base: string;
    const wallets: Record<"operator" | "supplier" | "lender" | "service" | "b1" | "b2" | "b3" | "b4" | "b5", Wallet> = {} as never;
    const tokens: Record<string, string> = {};
    let receivableId: bigint;
    let applicationId: string;
    let loanId: string;

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), "scf-external-"));
      const port = await freePort();
      rpcUrl = `http://127.0.0.1:${port}`;
      await node.start(port);
      publicClient = createPublicClient({ transport: http(rpcUrl), pollingInterval: 50, cacheTime: 0 }) as PublicClient;
      // The node logs every request by default; the test does not read that log.
      if (node.hardhat) await publicClient.request({ method: "hardhat_setLoggingEnabled", params: [false] } as never);
      if (node.noBalances) {
        for (let i = 0; i < 10; i++)
          await publicClient.request({ method: "anvil_setBalance", params: [hdAccount(i).address, "0x0"] } as never);
      }
      const chain = chainOf(31337, rpcUrl);
      const walletOf = (index: number) =>
        createWalletClient({ account: hdAccount(index) as Account, chain, transport: http(rpcUrl), pollingInterval: 50 }) as Wallet;
      Object.assign(wallets, {
        operator: walletOf(0),
        supplier: walletOf(1),
        b1: walletOf(2),
        b2: walletOf(3),
        b3: walletOf(4),
        b4: walletOf(5),
        b5: walletOf(7),
        lender: walletOf(6),
        service: walletOf(9),
      });
    });

    after(async () => {
      killAll();
      await service?.exited;
      rmSync(dir, { recursive: true, force: true });
    });

    it("deploys with scripts/deploy.ts and the operator's PRIVATE_KEY, and reuses the deployment on a second run", async () => {
      const file = path.join(dir, "deployment.json");
      const env = { PRIVATE_KEY: privateKeyOf(0), ...node.feeEnv };
      const first = await run(["scripts/deploy.ts", "--rpc", rpcUrl, "--out", file], env);
      expect(first.code, first.output).to.equal(0);
      expect(first.output).to.include("deployed 7 contracts on chain 31337");
      deployment = JSON.parse(readFileSync(file, "utf8")) as Deployment;
      expect(deployment.deployer).to.equal(wallets.operator.account.address);
      const head = await publicClient.getBlockNumber();

      const second = await run(["scripts/deploy.ts", "--rpc", rpcUrl, "--out", file], env);
      expect(second.code, second.output).to.equal(0);
      expect(second.output).to.include(`reusing the deployment in ${file}`);
      expect(JSON.parse(readFileSync(file, "utf8"))).to.deep.equal(deployment);
      expect(await publicClient.getBlockNumber()).to.equal(head);
      net = { publicClient, deployment, fees: node.fees };
    });

    it("takes a transaction the node mined but reverted for a failure, naming the contract's custom error", async () => {
      // An account that is no participant anchors: a fixed gas limit skips the estimate that would refuse
      // it, so the node takes it (Anvil mines it and hands back its hash; Hardhat mines it and throws).
      const outsider = createWalletClient({
        account: hdAccount(8) as Account,
        chain: chainOf(31337, rpcUrl),
        transport: http(rpcUrl),
        pollingInterval: 50,
      }) as Wallet;
      const sender = createTxSender({ publicClient, walletClient: outsider, fees: node.fees });
      const failure = await sender
        .write({
          address: deployment.contracts.EvidenceNotary,
          abi: abiOf("EvidenceNotary"),
          functionName: "anchor",
          args: [keccak256(toHex("anchored by an outsider")), 1, zeroHash],
          label: "anchoring by an outsider",
          gas: 200_000n,
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(failure).to.be.instanceOf(TxFailedError);
      expect((failure as TxFailedError).reason).to.include(`reverted with EvidenceNotaryNotActiveParticipant(${hdAccount(8).address})`);
      if (!node.hardhat) {
        expect((failure as TxFailedError).reason).to.match(/^mined in block \d+ and reverted/);
        const receipt = await publicClient.getTransactionReceipt({ hash: (failure as TxFailedError).txHash! });
        expect(receipt.status).to.equal("reverted");
      }
    });

    // Configuration checks made before the node is asked anything about its chain: run on the first node only.
    if (node === NODES[0])
      it("refuses to start, naming the key, when CHAIN_ID does not match the deployment or SERVICE_PRIVATE_KEY is not a key", async () => {
        const env = {
          RPC_URL: rpcUrl,
          DEPLOYMENT_FILE: path.join(dir, "deployment.json"),
          DATA_DIR: path.join(dir, "refused"),
          PORT: "0",
          LOG_LEVEL: "warn",
        };
        const [wrongChain, badKey] = await Promise.all([
          run(["node-service/src/server.ts"], { ...env, CHAIN_ID: "4242" }),
          run(["node-service/src/server.ts"], { ...env, CHAIN_ID: "31337", SERVICE_PRIVATE_KEY: "0x1234" }),
        ]);
        expect(wrongChain.code).to.equal(1);
        expect(wrongChain.output).to.include("DEPLOYMENT_FILE: made for chain 31337, but CHAIN_ID is 4242");
        expect(badKey.code).to.equal(1);
        expect(badKey.output).to.include("SERVICE_PRIVATE_KEY: must be a 0x-prefixed 32-byte hex private key");
      });

    it("starts from the environment alone, with the dev account picker off and the index caught up", async () => {
      await admit(net, wallets.operator, [
        { account: wallets.supplier.account.address, roles: ROLE.SUPPLIER },
        ...(["b1", "b2", "b3", "b4", "b5"] as const).map((b) => ({ account: wallets[b].account.address, roles: ROLE.BUYER })),
        { account: wallets.lender.account.address, roles: ROLE.LENDER },
        // The service's own account anchors decisions and submits agreements: it must be a participant.
        { account: wallets.service.account.address, roles: ROLE.AUDITOR },
      ]);
      const port = await freePort();
      serviceEnv = {
        RPC_URL: rpcUrl,
        CHAIN_ID: "31337",
        DEPLOYMENT_FILE: path.join(dir, "deployment.json"),
        DATA_DIR: path.join(dir, "data"),
        PORT: String(port),
        SERVICE_PRIVATE_KEY: privateKeyOf(9),
        LOG_LEVEL: "warn",
        POLL_INTERVAL_MS: "200",
        DEV_ACCOUNTS: "",
        ...node.feeEnv,
      };
      service = await startServiceProcess();
      base = `http://127.0.0.1:${port}`;

      const config = await call(base, "GET", "/api/config");
      expect(config.status).to.equal(200);
      expect(config.body).to.include({ chainId: 31337, startBlock: deployment.startBlock, devAccounts: false, publicRpcUrl: rpcUrl });
      expect(config.body.demoAccounts).to.equal(undefined);
      expect(config.body.contracts).to.deep.equal(deployment.contracts);
      await caughtUp();
    });

    /** `ts-node node-service/src/server.ts` with the service's environment, once it listens. */
    async function startServiceProcess(): Promise<Spawned> {
      const run = spawnTs(["node-service/src/server.ts"], serviceEnv);
      await waitForOutput(run, /API listening on http:\/\/127\.0\.0\.1:\d+/, 60_000);
      return run;
    }

    /**
     * /healthz once the index has applied the node's head block, judged as /healthz judges it: status ok
     * and lag 0 in one answer, whose head is never below its index.
     */
    async function caughtUp(): Promise<void> {
      const head = Number(await publicClient.getBlockNumber());
      const health = await eventually("the index to reach the head", async () => {
        const res = await call(base, "GET", "/healthz");
        return res.status === 200 && res.body.lagBlocks === 0 && res.body.indexedBlock >= head ? res.body : undefined;
      });
      expect(health).to.include({ status: "ok", chainId: 31337 });
      expect(health.headBlock).to.be.at.least(health.indexedBlock);
    }

    it("indexes orders and receivables sent to the node and shows them to the enterprise after SIWE sign-in", async () => {
      const supplier = wallets.supplier;
      const buyers = [wallets.b1, wallets.b2, wallets.b3, wallets.b4, wallets.b5];
      for (const buyer of buyers) await fundAndApprove(net, wallets.operator, buyer, 10n * FACE, "Receivables");
      // Four buyers, each with one order delivered, completed, invoiced, acknowledged and paid at once, and
      // a fifth whose receivable is the collateral: a short but clean record spread evenly over five buyers
      // (HHI 0.2), which policy v1 scores 71 of 100 and approves without a reviewer.
      for (const buyer of buyers.slice(0, 4)) {
        const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: FACE, complete: true });
        const r = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: FACE });
        await send(net, buyer, "Receivables", "pay", [r.receivableId, FACE]);
      }
      // The collateral: the fifth buyer's order, invoiced and acknowledged, not yet paid.
      const orderId = await createDeliveredOrder(net, { buyer: wallets.b5, supplier, amount: FACE, complete: true });
      receivableId = (await issueConfirmedReceivable(net, { supplier, buyer: wallets.b5, orderId, faceValue: FACE })).receivableId;
      await caughtUp();

      tokens.supplier = await signIn(base, supplier);
      const me = lower(supplier.account.address);
      const orders = await call(base, "GET", `/api/enterprises/${me}/orders?limit=10`, { token: tokens.supplier });
      expect(orders.status, JSON.stringify(orders.body)).to.equal(200);
      expect(orders.body.total).to.equal(5);
      expect(orders.body.items.map((o: { id: string; status: string; amount: string }) => [o.id, o.status, o.amount])).to.deep.equal(
        [5, 4, 3, 2, 1].map((id) => [String(id), "Completed", FACE.toString()]),
      );
      const receivables = await call(base, "GET", `/api/enterprises/${me}/receivables`, { token: tokens.supplier });
      expect(receivables.status).to.equal(200);
      expect(receivables.body.items.map((r: { id: string; status: string }) => [r.id, r.status])).to.deep.equal([
        [receivableId.toString(), "Confirmed"],
        ...[4, 3, 2, 1].map((id) => [String(id), "Paid"]),
      ]);
      const loans = await call(base, "GET", `/api/enterprises/${me}/loans`, { token: tokens.supplier });
      expect(loans.body).to.deep.include({ total: 0, items: [] });

      // Without the supplier's consent the lender reads nothing.
      tokens.lender = await signIn(base, wallets.lender);
      const refused = await call(base, "GET", `/api/enterprises/${me}/orders`, { token: tokens.lender });
      expect(refused.status).to.equal(403);
    });

    it("applies through the API, decides automatically once the consent is granted on chain, and issues an offer", async () => {
      const prefill = await call(base, "GET", "/api/applications/prefill", { token: tokens.supplier });
      expect(prefill.status, JSON.stringify(prefill.body)).to.equal(200);
      expect(prefill.body.receivables.map((r: { id: string }) => r.id)).to.deep.equal([receivableId.toString()]);
      expect(prefill.body.lenders.map((l: { address: string }) => l.address)).to.deep.equal([lower(wallets.lender.account.address)]);
      expect(BigInt(prefill.body.maxAmount)).to.be.at.least(PRINCIPAL);

      const created = await call(base, "POST", "/api/applications", {
        token: tokens.supplier,
        body: {
          amount: PRINCIPAL.toString(),
          termDays: TERM_DAYS,
          lender: wallets.lender.account.address,
          receivableIds: [receivableId.toString()],
          scopes: prefill.body.requiredScopes,
        },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.status).to.equal("submitted");
      applicationId = created.body.id;

      const expiry = (await latestTime(net)) + 90 * DAY;
      await send(net, wallets.supplier, "ConsentRegistry", "grant", [
        wallets.lender.account.address,
        prefill.body.requiredScopes | SCOPE.loans,
        expiry,
        created.body.purpose,
      ]);
      const app = await eventually("the automatic decision", async () => {
        const res = await call(base, "GET", `/api/applications/${applicationId}`, { token: tokens.supplier });
        return ["submitted"].includes(res.body.status) ? undefined : res.body;
      });
      expect(app.status, JSON.stringify(app.decision?.reasons)).to.equal("offer_issued");
      expect(app.decision).to.include({ outcome: "approve", score: 71, policyVersion: "v1" });
      expect(app.timeline.map((t: { step: string }) => t.step)).to.deep.equal([
        "draft",
        "submitted",
        "consent_granted",
        "data_collected",
        "screened",
        "scored",
        "decided",
        "offer_issued",
      ]);

      // With the consent in force, the lender reads the supplier's orders.
      const read = await call(base, "GET", `/api/enterprises/${lower(wallets.supplier.account.address)}/orders`, { token: tokens.lender });
      expect(read.status, JSON.stringify(read.body)).to.equal(200);
      expect(read.body.total).to.equal(5);
      // Both reads by the lender, the underwriting's and this one, are in the supplier's access log.
      const log = await call(base, "GET", `/api/enterprises/${lower(wallets.supplier.account.address)}/access-log`, {
        token: tokens.supplier,
      });
      expect(log.status).to.equal(200);
      expect(
        log.body.items.map((e: { reader: string; basis: string; resource: string; applicationId?: string }) => [
          e.reader,
          e.basis,
          e.resource,
          e.applicationId ?? null,
        ]),
      ).to.have.deep.members([
        [
          lower(wallets.lender.account.address),
          "consent",
          "underwriting of the application (metrics, risk flags, receivables)",
          applicationId,
        ],
        [lower(wallets.lender.account.address), "consent", "GET /api/enterprises/:address/orders", null],
      ]);
    });

    it("takes both parties' signatures of the offer, and the service's account records the agreement on chain", async () => {
      const offer = await call(base, "GET", `/api/applications/${applicationId}/offer`, { token: tokens.supplier });
      expect(offer.status).to.equal(200);
      const typedData = offer.body.typedData;
      const message = {
        ...typedData.message,
        principal: BigInt(typedData.message.principal),
        rateBps: BigInt(typedData.message.rateBps),
        start: BigInt(typedData.message.start),
        maturity: BigInt(typedData.message.maturity),
        collateral: typedData.message.collateral.map(BigInt),
        nonce: BigInt(typedData.message.nonce),
        deadline: BigInt(typedData.message.deadline),
      };
      expect(message.principal).to.equal(PRINCIPAL);
      expect(message.collateral).to.deep.equal([receivableId]);
      const sign = (w: Wallet) =>
        w.signTypedData({
          account: w.account,
          domain: typedData.domain,
          types: typedData.types,
          primaryType: typedData.primaryType,
          message,
        });

      const early = await call(base, "POST", `/api/applications/${applicationId}/signatures`, {
        token: tokens.lender,
        body: { signature: await sign(wallets.lender) },
      });
      expect(early.status).to.equal(409);
      expect(early.body.error.message).to.equal("the borrower signs first");

      const byBorrower = await call(base, "POST", `/api/applications/${applicationId}/signatures`, {
        token: tokens.supplier,
        body: { signature: await sign(wallets.supplier) },
      });
      expect(byBorrower.status, JSON.stringify(byBorrower.body)).to.equal(200);
      expect(byBorrower.body.status).to.equal("signed_by_borrower");
      const byLender = await call(base, "POST", `/api/applications/${applicationId}/signatures`, {
        token: tokens.lender,
        body: { signature: await sign(wallets.lender) },
      });
      expect(byLender.status, JSON.stringify(byLender.body)).to.equal(200);

      const app = await eventually("the recorded agreement", async () => {
        const res = await call(base, "GET", `/api/applications/${applicationId}`, { token: tokens.supplier });
        return res.body.loanId ? res.body : undefined;
      });
      expect(app.status).to.equal("countersigned_notarized");
      loanId = app.loanId;
      const recorded = app.timeline.find((t: { step: string }) => t.step === "countersigned_notarized");
      expect(recorded.actor).to.equal(lower(wallets.service.account.address));

      const evidence = await call(base, "GET", `/api/evidence/agreement/${loanId}`);
      expect(evidence.status, JSON.stringify(evidence.body)).to.equal(200);
      expect(evidence.body).to.include({ loanId, status: "Signed", signedByRegisteredParties: true, digest: offer.body.digest });
      expect(evidence.body.signers.borrower).to.include({
        recovered: lower(wallets.supplier.account.address),
        valid: true,
        matchesRegistered: true,
        method: "ecdsa",
      });
      expect(evidence.body.signers.lender).to.include({
        recovered: lower(wallets.lender.account.address),
        valid: true,
        matchesRegistered: true,
        method: "ecdsa",
      });
      expect(getAddress(evidence.body.recorded.submitter)).to.equal(wallets.service.account.address);
      expect(evidence.body.integrity.agreesWithIndex).to.equal(true);
    });

    it("follows the lender's disbursement and the buyer's payment of the pledged receivable to a closed application", async () => {
      await fundAndApprove(net, wallets.operator, wallets.lender, PRINCIPAL, "LoanAgreements");
      await send(net, wallets.lender, "LoanAgreements", "disburse", [BigInt(loanId)]);
      await eventually("the disbursement", async () => {
        const res = await call(base, "GET", `/api/applications/${applicationId}`, { token: tokens.supplier });
        return res.body.status === "disbursed" ? res.body : undefined;
      });

      await send(net, wallets.b5, "Receivables", "pay", [receivableId, FACE]);
      const app = await eventually("the closed application", async () => {
        const res = await call(base, "GET", `/api/applications/${applicationId}`, { token: tokens.supplier });
        return res.body.status === "closed" ? res.body : undefined;
      });
      expect(app.timeline.map((t: { step: string }) => t.step).slice(-4)).to.deep.equal([
        "signed_by_borrower",
        "countersigned_notarized",
        "disbursed",
        "closed",
      ]);
      expect(app.steps.every((s: { done: boolean }) => s.done)).to.equal(true);
      await caughtUp();

      const loans = await call(base, "GET", `/api/enterprises/${lower(wallets.supplier.account.address)}/loans`, {
        token: tokens.supplier,
      });
      expect(loans.status).to.equal(200);
      expect(loans.body.total).to.equal(1);
      const loan = loans.body.items[0];
      const due = totalDue(PRINCIPAL, BigInt(loan.rateBps), BigInt(loan.start), BigInt(loan.maturity));
      expect(loan).to.include({
        id: loanId,
        status: "Repaid",
        principal: PRINCIPAL.toString(),
        totalDue: due.toString(),
        repaid: due.toString(),
      });
      const lenderView = await call(base, "GET", `/api/enterprises/${lower(wallets.supplier.account.address)}/loans`, {
        token: tokens.lender,
      });
      expect(lenderView.status).to.equal(200);
      expect(lenderView.body.items[0].id).to.equal(loanId);

      const receivables = await call(base, "GET", `/api/enterprises/${lower(wallets.supplier.account.address)}/receivables`, {
        token: tokens.supplier,
      });
      expect(receivables.body.items[0]).to.include({ id: receivableId.toString(), status: "Paid", paid: FACE.toString() });
      const evidence = await call(base, "GET", `/api/evidence/agreement/${loanId}`);
      expect(evidence.body).to.include({ status: "Repaid", signedByRegisteredParties: true });
    });

    it("stops on SIGTERM, and rebuilds a deleted index from the chain while sessions and applications stay", async () => {
      service.child.kill("SIGTERM");
      expect(await service.exited, service.output()).to.equal(0);
      expect(
        service
          .output()
          .split("\n")
          .filter((line) => /"level":(50|60)/.test(line)),
      ).to.deep.equal([]);
      const indexFile = path.join(serviceEnv.DATA_DIR, "index.json");
      expect(existsSync(indexFile)).to.equal(true);
      rmSync(indexFile);

      service = await startServiceProcess();
      await caughtUp();
      expect(existsSync(indexFile)).to.equal(true);
      // The session signed in before the restart still works (DATA_DIR/sessions.json and session-secret).
      const app = await call(base, "GET", `/api/applications/${applicationId}`, { token: tokens.supplier });
      expect(app.status).to.equal(200);
      expect(app.body).to.include({ status: "closed", loanId });
      const loans = await call(base, "GET", `/api/enterprises/${lower(wallets.supplier.account.address)}/loans`, {
        token: tokens.supplier,
      });
      expect(loans.body.items.map((l: { id: string; status: string }) => [l.id, l.status])).to.deep.equal([[loanId, "Repaid"]]);
      const orders = await call(base, "GET", `/api/enterprises/${lower(wallets.supplier.account.address)}/orders`, {
        token: tokens.supplier,
      });
      expect(orders.body.total).to.equal(5);
      // Nothing went wrong on the way (pino levels 50 and 60: error, fatal).
      expect(
        service
          .output()
          .split("\n")
          .filter((line) => /"level":(50|60)/.test(line)),
      ).to.deep.equal([]);

      if (node.noBalances) {
        // Free gas: the deployer, the service and every party sent their transactions without a wei.
        for (const w of Object.values(wallets)) expect(await publicClient.getBalance({ address: w.account.address })).to.equal(0n);
      }
    });
  });
}
