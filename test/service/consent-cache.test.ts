/**
 * Issue 17, consent checks without two chain reads per request: the API keeps the consent state per
 * block (the index, plus a head watcher over the blocks above the index's tip). The service here waits
 * for 3 confirmations, so the index lags the head and every refusal below comes from the watcher, not
 * the index; ROLE_CACHE_MS is 1 ms, so the roles of a request are served without a chain read only
 * because the watcher is current (it forgets an account at its ParticipantRegistry event), and a
 * suspension applies because the watcher saw its event. Every JSON-RPC request of the service is counted.
 */
import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { custom, type Address, type EIP1193RequestFn } from "viem";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";
import { SCOPE } from "../../node-service/src/chain/eip712";
import { startService, type RunningService } from "../../node-service/src/server";
import {
  DAY,
  call,
  deployNetwork,
  removeDir,
  signInAll,
  tempDataDir,
  testConfig,
  waitConsentsSeen,
  type Network,
  type Wallet,
} from "./api-helpers";

const CONFIRMATIONS = 3;

describe("consent state per block (issue 17)", function () {
  this.timeout(180_000);
  let net: Network;
  let dataDir: string;
  let service: RunningService;
  let tokens: Record<"supplier" | "supplier2" | "lender" | "lender2", string>;
  const rpcCalls = new Map<string, number>();
  const lower = (w: Wallet) => w.account.address.toLowerCase() as Address;
  const metrics = (enterprise: Wallet, token: string) =>
    call(service.url, "GET", `/api/enterprises/${lower(enterprise)}/metrics`, { token });
  const seen = () => waitConsentsSeen(service, net.publicClient);
  async function grant(from: Wallet, to: Wallet, scopes: number, expiresIn = 30 * DAY, purpose = "cache") {
    const expiresAt = (await net.latestTime()) + expiresIn;
    await net.send(from, "ConsentRegistry", "grant", [to.account.address, scopes, expiresAt, net.h(purpose)]);
    return expiresAt;
  }
  /** The answer to a lender's read, asserting the service made no eth_call for it. */
  async function withoutEthCall<T>(read: () => Promise<T>): Promise<T> {
    const before = rpcCalls.get("eth_call") ?? 0;
    const answer = await read();
    expect((rpcCalls.get("eth_call") ?? 0) - before, "eth_calls for the read").to.equal(0);
    return answer;
  }
  const indexedConsent = (from: Wallet, to: Wallet) => service.indexer.state().consents[`${lower(from)}:${lower(to)}`];

  before(async function () {
    net = await deployNetwork();
    await net.tradeOnce(1_000_000n);
    dataDir = await tempDataDir(net.deployment);
    const provider = hre.network.provider;
    const request = ((args: { method: string; params?: unknown }) => {
      rpcCalls.set(args.method, (rpcCalls.get(args.method) ?? 0) + 1);
      return provider.request(args as never);
    }) as unknown as EIP1193RequestFn;
    service = await startService(testConfig(dataDir, { CONFIRMATIONS, ROLE_CACHE_MS: 1 }), { transport: custom({ request }) });
    tokens = await signInAll(service.url, net, ["supplier", "supplier2", "lender", "lender2"]);
  });

  after(async function () {
    await service?.close();
    if (dataDir) await removeDir(dataDir);
  });

  it("serves a lender's reads under consent with no eth_call, from a grant the index does not hold yet", async function () {
    await grant(net.supplier, net.lender, SCOPE.metrics);
    await seen();
    expect(indexedConsent(net.supplier, net.lender), "the index waits for confirmations").to.equal(undefined);
    expect((await metrics(net.supplier, tokens.lender)).status).to.equal(200);
    const before = rpcCalls.get("eth_call") ?? 0;
    for (let i = 0; i < 20; i++) expect((await metrics(net.supplier, tokens.lender)).status).to.equal(200);
    expect((rpcCalls.get("eth_call") ?? 0) - before, "eth_calls during 20 lender reads").to.equal(0);
  });

  it("refuses a read in the block after a revocation, before the index has it", async function () {
    await grant(net.supplier, net.lender, SCOPE.metrics, 30 * DAY, "to revoke");
    await seen();
    expect((await metrics(net.supplier, tokens.lender)).status).to.equal(200);
    await net.send(net.supplier, "ConsentRegistry", "revoke", [net.lender.account.address]);
    await hre.network.provider.send("evm_mine", []);
    await seen();
    expect(indexedConsent(net.supplier, net.lender)?.revokedAt, "not in the index yet").to.equal(undefined);
    const res = await withoutEthCall(() => metrics(net.supplier, tokens.lender));
    expect(res.status).to.equal(403);
    expect(res.body.error.message).to.match(/the consent was revoked/);
  });

  it("refuses an expired consent once the chain's time has passed its expiry", async function () {
    const expiresAt = await grant(net.supplier2, net.lender, SCOPE.metrics, 2 * DAY, "short");
    await seen();
    expect((await metrics(net.supplier2, tokens.lender)).status).to.equal(200);
    await time.increaseTo(expiresAt);
    await seen();
    const res = await withoutEthCall(() => metrics(net.supplier2, tokens.lender));
    expect(res.status).to.equal(403);
    expect(res.body.error.message).to.match(/the consent has expired/);
  });

  it("refuses a consent granted to another lender, or by another borrower", async function () {
    await grant(net.supplier, net.lender2, SCOPE.metrics, 30 * DAY, "lender2 only");
    await seen();
    expect((await metrics(net.supplier, tokens.lender2)).status, "the lender it was granted to").to.equal(200);
    const other = await withoutEthCall(() => metrics(net.supplier, tokens.lender));
    expect(other.status, "another lender").to.equal(403);
    expect(other.body.error.message).to.match(/the consent was revoked/); // the supplier's own grant to it, revoked above
    const otherBorrower = await withoutEthCall(() => metrics(net.supplier2, tokens.lender2));
    expect(otherBorrower.status, "another borrower's data").to.equal(403);
    expect(otherBorrower.body.error.message).to.match(/no consent was granted/);
  });

  it("refuses a suspended lender once the watcher has seen the suspension, although its roles are reused while the watcher is current", async function () {
    expect((await metrics(net.supplier, tokens.lender2)).status).to.equal(200);
    await net.send(net.operator, "ParticipantRegistry", "suspend", [net.lender2.account.address, 1]);
    try {
      await seen();
      const res = await metrics(net.supplier, tokens.lender2);
      expect(res.status).to.equal(403);
      expect(res.body.error.message).to.match(/a lender it granted consent to/);
    } finally {
      await net.send(net.operator, "ParticipantRegistry", "reinstate", [net.lender2.account.address]);
    }
    await seen();
    expect((await metrics(net.supplier, tokens.lender2)).status).to.equal(200);
  });

  it("drops a grant whose block left the chain (reorg above the index's tip)", async function () {
    const snapshot = await hre.network.provider.send("evm_snapshot", []);
    await grant(net.supplier2, net.lender2, SCOPE.metrics, 30 * DAY, "to be reorged");
    await seen();
    expect((await metrics(net.supplier2, tokens.lender2)).status).to.equal(200);
    await hre.network.provider.send("evm_revert", [snapshot]);
    // Another chain of the same height and one block more: the granting block is gone.
    await hre.network.provider.send("evm_mine", []);
    await hre.network.provider.send("evm_mine", []);
    await seen();
    // The watcher read the blocks above the index again, suspension and reinstatement included: the
    // lender's roles are read once more (two eth_calls); the consent itself is not.
    await metrics(net.supplier2, tokens.lender2);
    const res = await withoutEthCall(() => metrics(net.supplier2, tokens.lender2));
    expect(res.status).to.equal(403);
    expect(res.body.error.message).to.match(/no consent was granted/);
  });

  it("decides no application under a consent revoked in a block the index has not applied yet", async function () {
    const { receivableId } = await net.tradeOnce(900_000n);
    await grant(net.supplier, net.lender, REQUIRED_SCOPES, 30 * DAY, "to decide");
    for (let i = 0; i < CONFIRMATIONS; i++) await hre.network.provider.send("evm_mine", []);
    await seen();
    const deadline = Date.now() + 20_000;
    while (indexedConsent(net.supplier, net.lender)?.scopes !== REQUIRED_SCOPES) {
      if (Date.now() > deadline) throw new Error("the index never held the grant");
      await new Promise((r) => setTimeout(r, 20));
    }
    await net.send(net.supplier, "ConsentRegistry", "revoke", [net.lender.account.address]);
    await hre.network.provider.send("evm_mine", []);
    await seen();
    expect(indexedConsent(net.supplier, net.lender)?.revokedAt, "not in the index yet").to.equal(undefined);
    const body = {
      lender: lower(net.lender),
      amount: "100000",
      termDays: 30,
      receivableIds: [receivableId.toString()],
      scopes: REQUIRED_SCOPES,
    };
    const created = await call(service.url, "POST", "/api/applications", { token: tokens.supplier, body });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    // Before, the index's grant decided it at once (data collected for the lender after the revocation).
    expect(created.body.status).to.equal("submitted");
    expect(created.body.decision).to.equal(undefined);
  });
});
