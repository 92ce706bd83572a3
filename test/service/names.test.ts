/**
 * Issue 16 finding 5 (server side): participants by registered name, proven. The operator publishes
 * each name with the salt that opens the registry's on-chain commitment; the directory serves members
 * the name with its opening and labels it verified only when it recomputes to the registry's
 * displayNameHash on chain, otherwise a claim. Amounts in texts are CNY in major units, exact from the
 * bigint; the agreement document is bilingual with the parties by name. Real Hardhat network, real
 * indexer and real express server on port 0.
 */
import { expect } from "chai";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { encodeErrorResult, type Address, type Hex } from "viem";
import { abiOf } from "../../node-service/src/chain/contracts";
import { decodeRevertData } from "../../node-service/src/chain/revert";
import { displayNameCommitment, openingMatches } from "../../node-service/src/domain/name-commitment";
import { displayNameHash, displayNameSalt } from "../../node-service/src/domain/kyc-attributes";
import { amountJson, formatMoney, moneyWithRaw } from "../../node-service/src/domain/money";
import { createNameBook, writeParticipantNames } from "../../node-service/src/participants/directory";
import {
  AGREEMENT_DOCUMENT_VERSION,
  agreementDocumentSha256,
  renderAgreementDocument,
  type AgreementDocumentInput,
} from "../../node-service/src/applications/agreement-document";
import type { RunningService } from "../../node-service/src/server";
import {
  call,
  deployNetwork,
  waitIndexed,
  type Network,
  type Wallet,
  startOnNetwork,
  stopOnNetwork,
  type ServiceOnNetwork,
} from "./api-helpers";

const KEY = Buffer.alloc(32, 0x4b);
const SUPPLIER_NAME = "深圳华信电子有限公司";
const LENDER_NAME = "Lingnan Commercial Bank 岭南商业银行";

describe("participants by registered name, proven (issue 16 finding 5)", function () {
  this.timeout(120_000);
  let net: Network;
  let running: ServiceOnNetwork<"operator" | "supplier" | "buyer" | "lender" | "lender2" | "auditor" | "outsider">;
  let service: RunningService;
  let base: string;
  let dataDir: string;
  let tokens: Record<"operator" | "supplier" | "buyer" | "lender" | "lender2" | "auditor" | "outsider", string>;

  /** The operator re-registers `w`'s display name as the salted commitment of `name` (as the seed admits). */
  async function commitName(w: Wallet, name: string): Promise<void> {
    const a = w.account.address;
    await net.send(net.operator, "ParticipantRegistry", "updateKyc", [
      a,
      net.h(`kyc:${a}`),
      displayNameHash(KEY, a, name),
      [net.h(`addr:${a}`)],
    ]);
  }
  const onChainNameHash = async (a: Address) =>
    (await net.read<{ displayNameHash: Hex }>("ParticipantRegistry", "participant", [a])).displayNameHash;

  before(async function () {
    net = await deployNetwork();
    await commitName(net.supplier, SUPPLIER_NAME);
    await commitName(net.lender, LENDER_NAME);
    const names = (dataDir: string) =>
      writeParticipantNames(dataDir, [
        { address: net.supplier.account.address, name: SUPPLIER_NAME, salt: displayNameSalt(KEY, net.supplier.account.address) },
        { address: net.lender.account.address, name: LENDER_NAME, salt: displayNameSalt(KEY, net.lender.account.address) },
        // A name the registry never committed to (a forged or stale entry): served only as a claim.
        { address: net.buyer.account.address, name: "Totally Real Buyer Ltd.", salt: displayNameSalt(KEY, net.buyer.account.address) },
      ]);
    ({ service, dataDir, tokens } = running = await startOnNetwork(
      net,
      ["operator", "supplier", "buyer", "lender", "lender2", "auditor", "outsider"],
      { prepare: names },
    ));
    base = service.url;
  });

  after(async function () {
    await stopOnNetwork(running);
  });

  describe("the directory", function () {
    it("serves a member each name with its opening, verified only where it recomputes to the registry's commitment on chain", async function () {
      const res = await call(base, "GET", "/api/participants", { token: tokens.buyer });
      expect(res.status).to.equal(200);
      const byAddress = new Map<string, { name: string | null; salt: Hex | null; status: string | null; displayNameHash: Hex }>(
        res.body.participants.map((p: { address: string }) => [p.address, p]),
      );
      for (const [w, name] of [
        [net.supplier, SUPPLIER_NAME],
        [net.lender, LENDER_NAME],
      ] as const) {
        const e = byAddress.get(w.account.address.toLowerCase())!;
        expect(e).to.include({ name, status: "verified" });
        // Anyone can redo the check with the opening and the registry, without the service.
        expect(displayNameCommitment(e.salt!, e.name!)).to.equal(await onChainNameHash(w.account.address));
      }
      const forged = byAddress.get(net.buyer.account.address.toLowerCase())!;
      expect(forged).to.include({ name: "Totally Real Buyer Ltd.", status: "claim" });
      expect(displayNameCommitment(forged.salt!, forged.name!)).to.not.equal(await onChainNameHash(net.buyer.account.address));
      expect(byAddress.get(net.lender2.account.address.toLowerCase())).to.include({ name: null, status: null });
    });

    it("answers for one participant, and names the field of a malformed address", async function () {
      const one = await call(base, "GET", `/api/participants/${net.lender.account.address}`, { token: tokens.supplier });
      expect(one.status).to.equal(200);
      expect(one.body).to.include({ name: LENDER_NAME, status: "verified", address: net.lender.account.address.toLowerCase() });
      const bad = await call(base, "GET", "/api/participants/0x1234", { token: tokens.supplier });
      expect(bad.status).to.equal(400);
      expect(JSON.stringify(bad.body.error)).to.contain("address");
    });

    it("shows names to members (auditors and the operator included), not to an unregistered account or the anonymous", async function () {
      for (const who of ["operator", "auditor", "lender2"] as const) {
        expect((await call(base, "GET", "/api/participants", { token: tokens[who] })).status, who).to.equal(200);
      }
      const outsider = await call(base, "GET", "/api/participants", { token: tokens.outsider });
      expect(outsider.status).to.equal(403);
      expect(outsider.body.error.message).to.match(/members/);
      expect((await call(base, "GET", `/api/participants/${net.supplier.account.address}`, { token: tokens.outsider })).status).to.equal(
        403,
      );
      expect((await call(base, "GET", "/api/participants")).status).to.equal(401);
    });

    it("turns a name into a claim as soon as the registry's commitment changes on chain", async function () {
      const a = net.supplier2.account.address;
      await commitName(net.supplier2, "Dongguan Precision Parts Co.");
      await writeParticipantNames(dataDir, [{ address: a, name: "Dongguan Precision Parts Co.", salt: displayNameSalt(KEY, a) }]);
      await waitIndexed(service, net.publicClient);
      expect((await call(base, "GET", `/api/participants/${a}`, { token: tokens.lender })).body.status).to.equal("verified");
      await commitName(net.supplier2, "Someone Else Entirely Ltd.");
      await waitIndexed(service, net.publicClient);
      const after = await call(base, "GET", `/api/participants/${a}`, { token: tokens.lender });
      expect(after.body).to.include({ name: "Dongguan Precision Parts Co.", status: "claim" });
      expect(after.body.detail).to.match(/not matched/);
    });

    it("gives synchronous callers (the agreement document) only verified names", async function () {
      await writeParticipantNames(dataDir, [
        { address: net.lender.account.address, name: LENDER_NAME, salt: displayNameSalt(KEY, net.lender.account.address) },
        { address: net.buyer.account.address, name: "Totally Real Buyer Ltd.", salt: displayNameSalt(KEY, net.buyer.account.address) },
      ]);
      const book = createNameBook({ dataDir });
      await book.refresh();
      const index = service.indexer.state();
      expect(book.verifiedName(net.lender.account.address, index)).to.equal(LENDER_NAME);
      expect(book.verifiedName(net.buyer.account.address, index)).to.equal(undefined);
      expect(book.verifiedName(net.outsider.account.address, index)).to.equal(undefined);
    });
  });

  describe("the commitment", function () {
    it("is salted per account: not a plain sha256, different for two accounts with one name, and untestable without the salt", function () {
      const a = "0x00000000000000000000000000000000000000a1";
      const b = "0x00000000000000000000000000000000000000b2";
      const h = displayNameHash(KEY, a, SUPPLIER_NAME);
      expect(h).to.not.equal(`0x${createHash("sha256").update(SUPPLIER_NAME).digest("hex")}`);
      expect(h).to.not.equal(displayNameHash(KEY, b, SUPPLIER_NAME));
      expect(openingMatches({ name: SUPPLIER_NAME, salt: displayNameSalt(KEY, a) }, h)).to.equal(true);
      expect(openingMatches({ name: SUPPLIER_NAME, salt: displayNameSalt(KEY, b) }, h)).to.equal(false);
      expect(openingMatches({ name: `${SUPPLIER_NAME} `, salt: displayNameSalt(KEY, a) }, h)).to.equal(false);
      expect(openingMatches({ name: SUPPLIER_NAME, salt: "0x12" as Hex }, h)).to.equal(false);
      // The salt is the operator's keyed hash: another key gives another salt.
      expect(displayNameSalt(Buffer.alloc(32, 1), a)).to.not.equal(displayNameSalt(KEY, a));
    });
  });

  describe("money in words", function () {
    it("writes minor units as CNY major units exactly, for any bigint, with the raw value where a message needs it", function () {
      expect(formatMoney(120_000_000n)).to.equal("CNY 1,200,000.00");
      expect(formatMoney(5n)).to.equal("CNY 0.05");
      expect(formatMoney(-12_345n)).to.equal("-CNY 123.45");
      expect(moneyWithRaw(181_356_000n)).to.equal("CNY 1,813,560.00 (181356000 minor units)");
      expect(amountJson("99")).to.deep.equal({ minor: "99", formatted: "CNY 0.99" });
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (minor) => {
          const text = formatMoney(minor);
          expect(text).to.match(/^CNY \d{1,3}(,\d{3})*\.\d{2}$/);
          expect(BigInt(text.slice(4).replace(/[,.]/g, ""))).to.equal(minor);
        }),
      );
    });
  });

  describe("chain errors that carry amounts", function () {
    it("show each amount raw and in CNY, other numbers as they are", function () {
      const data = encodeErrorResult({
        abi: abiOf("LoanAgreements"),
        errorName: "LoanAgreementsOverpayment",
        args: [7n, 60_000n, 181_356_000n],
      });
      expect(decodeRevertData(data)).to.equal(
        "LoanAgreementsOverpayment(7, outstanding CNY 600.00 (60000 minor units), amount CNY 1,813,560.00 (181356000 minor units))",
      );
    });
  });

  describe("the agreement document", function () {
    const input: AgreementDocumentInput = {
      applicationId: "app-1",
      chainId: 31337,
      loanAgreements: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      borrower: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
      lender: "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
      currency: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
      principal: 120_000_000n,
      rateBps: 650,
      start: 1767225600,
      disburseBy: 1767830400,
      maturity: 1769817600,
      collateral: ["3", "7"],
      decisionInputHash: `0x${"ab".repeat(32)}`,
      policyVersion: "v1",
    };

    it("keeps offers issued before names (version 1) byte for byte, so their signed hashes still match", function () {
      // sha256 of the version-1 text as rendered before this change (commit 70bc701).
      expect(agreementDocumentSha256(input)).to.equal("0xd3004daa710009926d2fcd840bee11bbef072c1255b5166f7d986575effc6f97");
      expect(renderAgreementDocument(input)).to.contain("Principal (minor units of the settlement token): 120000000");
    });

    it("is one bilingual document with amounts in CNY, parties by verified name with the address, times in UTC and Beijing time", function () {
      const v2 = { ...input, version: AGREEMENT_DOCUMENT_VERSION, borrowerName: SUPPLIER_NAME, lenderName: LENDER_NAME };
      const text = renderAgreementDocument(v2);
      expect(text).to.contain("供应链融资借款协议").and.to.contain("SUPPLY-CHAIN FINANCING LOAN AGREEMENT");
      expect(text).to.contain(`借款人 / Borrower: ${SUPPLIER_NAME} (${input.borrower})`);
      expect(text).to.contain(`贷款人 / Lender: ${LENDER_NAME} (${input.lender})`);
      expect(text).to.contain("本金 / Principal: CNY 1,200,000.00 (120000000 最小单位 / minor units)");
      expect(text).to.contain("年利率 6.50%").and.to.contain("6.50% per year (650 basis points)");
      expect(text).to.contain("2026-01-01 00:00:00 UTC / 北京时间 2026-01-01 08:00:00 (UTC+8)");
      expect(text).to.not.match(/\b\d{7,} minor units\)?$/m);
      // Without a verified name the address stands alone, said so in both languages.
      expect(renderAgreementDocument({ ...v2, lenderName: undefined })).to.contain(
        `贷款人 / Lender: ${input.lender} (no verified registered name / 无经核验的登记名称)`,
      );
      // The hash is of exactly these bytes: one rule, and a name changes it.
      expect(agreementDocumentSha256(v2)).to.equal(`0x${createHash("sha256").update(text, "utf8").digest("hex")}`);
      expect(agreementDocumentSha256({ ...v2, lenderName: "Other Bank" })).to.not.equal(agreementDocumentSha256(v2));
    });
  });
});
