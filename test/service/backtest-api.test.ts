/**
 * POST /api/backtest over the real service and a real Hardhat network: a lender's session runs a
 * policy over history beside the policy in force (JSON and CSV); everyone else is refused, and bad
 * input gets a 400 naming the field. The chain is snapshotted and reverted (the clock moves forward).
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { RunningService } from "../../node-service/src/server";
import { CURRENT_POLICY } from "../../node-service/src/underwriting/policy";
import { DAY, call, deployNetwork, type Network, startOnNetwork, stopOnNetwork, type ServiceOnNetwork } from "./api-helpers";

describe("API: back-test of a policy (lender)", function () {
  this.timeout(120_000);
  let snapshot: string;
  let net: Network;
  let running: ServiceOnNetwork<"supplier" | "lender" | "operator">;
  let service: RunningService;
  let tokens: Record<"supplier" | "lender" | "operator", string>;
  let to: number;

  const post = (body: unknown, token?: string, query = "") => call(service.url, "POST", `/api/backtest${query}`, { token, body });
  // The candidate: v1 with a lower approval threshold.
  const candidate = { ...CURRENT_POLICY, version: "v1-lenient", thresholds: { approveMin: 40, declineBelow: 20 } };

  before(async function () {
    snapshot = (await hre.network.provider.request({ method: "evm_snapshot" })) as string;
    net = await deployNetwork();
    // Trade with confirmed receivables maturing in 60 days; then 35 days pass, so a month end is behind.
    for (const amount of [400_000n, 300_000n, 200_000n]) await net.tradeOnce(amount);
    await time.increase(35 * DAY);
    await net.tradeOnce(100_000n, net.supplier2);
    to = await net.latestTime();
    ({ service, tokens } = running = await startOnNetwork(net, ["supplier", "lender", "operator"]));
  });

  after(async function () {
    await stopOnNetwork(running);
    if (snapshot) await hre.network.provider.request({ method: "evm_revert", params: [snapshot] });
  });

  it("gives a lender the candidate beside the policy in force, per score band", async function () {
    const res = await post({ policy: candidate, to }, tokens.lender);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.cases.applications).to.equal(0);
    expect(res.body.cases.monthly).to.be.at.least(1);
    const [inForce, tested] = res.body.policies;
    expect(inForce).to.include({ version: "v1", inForce: true });
    expect(tested).to.include({ version: "v1-lenient", inForce: false });
    expect(inForce.bands.map((b: { band: string }) => b.band)).to.deep.equal(["0-39", "40-54", "55-69", "70-84", "85+"]);
    expect(inForce.total.cases).to.equal(res.body.cases.monthly);
    // A lower threshold approves at least as much; amounts are decimal strings.
    expect(tested.total.approved).to.be.at.least(inForce.total.approved);
    expect(tested.total.approvedAmount).to.match(/^[0-9]+$/);
  });

  it("exports the same comparison as CSV", async function () {
    const res = await call(service.url, "POST", "/api/backtest?format=csv", { token: tokens.lender, body: { policyVersion: "v1", to } });
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^text\/csv/);
    const lines = String(res.body).trimEnd().split("\r\n");
    expect(lines[0]).to.match(/^policy,in_force,band,cases,approved,approval_rate,approved_amount,on_time,late,defaulted,open/);
    expect(lines).to.have.length(1 + 6); // v1 is in force: one column of five bands and the total
  });

  it("writes the CSV in Chinese with ?lang=zh (header and the service's words, a UTF-8 byte order mark) and refuses another language", async function () {
    const body = { policyVersion: "v1", to };
    const en = String((await call(service.url, "POST", "/api/backtest?format=csv&lang=en", { token: tokens.lender, body })).body);
    const res = await fetch(`${service.url}/api/backtest?format=csv&lang=zh`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.lender}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).to.equal(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const [zhHeader, ...zhRows] = bytes.subarray(3).toString("utf8").trimEnd().split("\r\n");
    const [enHeader, ...enRows] = en.trimEnd().split("\r\n");
    expect(zhHeader).to.match(
      /^授信策略,现行策略,评分区间,案例数,批准数,批准率,批准金额,按时还款,逾期还款,违约,未到期,违约金额,坏账率,币种$/,
    );
    expect(zhHeader.split(",")).to.have.length(enHeader.split(",").length);
    // The same cells; the service's words (in force: true/false, the total line's band "all") in Chinese.
    const words: Record<string, string> = { true: "是", false: "否", all: "合计" };
    expect(zhRows).to.deep.equal(
      enRows.map((r) =>
        r
          .split(",")
          .map((cell, i) => (i <= 2 && words[cell]) || cell)
          .join(","),
      ),
    );
    expect(zhRows.at(-1)!.split(",").slice(1, 3)).to.deep.equal(["是", "合计"]);
    const bad = await call(service.url, "POST", "/api/backtest?format=csv&lang=fr", { token: tokens.lender, body });
    expect(bad.status).to.equal(400);
    expect((bad.body as { error: { field: string } }).error.field).to.equal("lang");
  });

  it("gives the same comparison from the command line (npm run backtest) over the service's data directory", async function () {
    // The command reads the index the service saved and its applications; the window ends at the
    // index's last event, as the service's ends at `to` (the same block here).
    const api = await call(service.url, "POST", "/api/backtest?format=csv", { token: tokens.lender, body: { policy: candidate, to } });
    expect(api.status).to.equal(200);
    const policyFile = path.join(running.dataDir, "candidate-policy.json");
    const csvFile = path.join(running.dataDir, "backtest-cli.csv");
    await writeFile(policyFile, JSON.stringify(candidate));
    const args = ["--policy", policyFile, "--data", running.dataDir, "--lender", net.lender.account.address, "--csv", csvFile];
    const printed = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/backtest.ts", ...args], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(printed).to.match(/v1-lenient: /);
    expect(await readFile(csvFile, "utf8")).to.equal(String(api.body));
  });

  it("refuses a caller without a session or without the lender role", async function () {
    expect((await post({ policyVersion: "v1" })).status).to.equal(401);
    const supplier = await post({ policyVersion: "v1" }, tokens.supplier);
    expect(supplier.status).to.equal(403);
    expect(supplier.body.error.message).to.match(/LENDER/);
  });

  it("answers bad input with a 400 naming the field, and an unknown version with 404", async function () {
    const both = await post({ policyVersion: "v1", policy: candidate }, tokens.lender);
    expect(both.status).to.equal(400);
    expect(both.body.error.field).to.equal("policy");
    const none = await post({}, tokens.lender);
    expect(none.status).to.equal(400);
    const badPolicy = await post({ policy: { ...candidate, thresholds: { approveMin: 10, declineBelow: 50 } } }, tokens.lender);
    expect(badPolicy.status).to.equal(400);
    expect(badPolicy.body.error.field).to.equal("policy.thresholds");
    const unknownMetric = await post(
      { policy: { ...candidate, hardRules: [{ ...CURRENT_POLICY.hardRules[0], metric: "noSuchMetric" }] } },
      tokens.lender,
    );
    expect(unknownMetric.status).to.equal(400);
    expect(unknownMetric.body.error.field).to.equal("policy.hardRules.0.metric");
    const term = await post({ policyVersion: "v1", termDays: 0 }, tokens.lender);
    expect(term.status).to.equal(400);
    expect(term.body.error.field).to.equal("termDays");
    const range = await post({ policyVersion: "v1", from: to, to: to - 1 }, tokens.lender);
    expect(range.status).to.equal(400);
    expect(range.body.error.field).to.equal("from");
    expect((await post({ policyVersion: "v9" }, tokens.lender)).status).to.equal(404);
    expect(
      (await call(service.url, "POST", "/api/backtest?format=xml", { token: tokens.lender, body: { policyVersion: "v1" } })).body.error
        .field,
    ).to.equal("format");
  });
});
