import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  DAY,
  ORDER_AMOUNT,
  OrderStatus,
  as,
  confirmedReceivable,
  deployFixture,
  h,
  issueReceivable,
  makeOrder,
  makeTerms,
  nextTime,
  now,
  signTerms,
  signedLoan,
} from "./fixture";
import { ROLE } from "../../node-service/src/chain/eip712";

describe("ParticipantRegistry", () => {
  it("admits a participant with roles, KYC dossier hash, display name hash and KYC attributes in the event", async () => {
    const f = await loadFixture(deployFixture);
    const attrs = [h("legal rep"), h("address")];
    const at = await nextTime();
    await expect(f.registry.admit(f.outsider.address, ROLE.SUPPLIER | ROLE.BUYER, h("dossier"), h("name"), attrs))
      .to.emit(f.registry, "ParticipantAdmitted")
      .withArgs(f.outsider.address, ROLE.SUPPLIER | ROLE.BUYER, h("dossier"), h("name"), attrs, at);
    const p = await f.registry.participant(f.outsider.address);
    expect(p.roles).to.equal(3n);
    expect(p.suspended).to.equal(false);
    expect(p.admittedAt).to.equal(BigInt(at));
    expect(p.kycDossierHash).to.equal(h("dossier"));
    expect(p.displayNameHash).to.equal(h("name"));
    expect(await f.registry.isActiveAs(f.outsider.address, ROLE.SUPPLIER)).to.equal(true);
    expect(await f.registry.isActiveAs(f.outsider.address, ROLE.SUPPLIER | ROLE.BUYER)).to.equal(true);
    expect(await f.registry.isActiveAs(f.outsider.address, ROLE.LENDER)).to.equal(false);
  });

  it("refuses admission, role changes, suspension and reinstatement by anyone but the operator", async () => {
    const f = await loadFixture(deployFixture);
    const role = await f.registry.OPERATOR_ROLE();
    const r = as(f.registry, f.buyer);
    await expect(r.admit(f.outsider.address, ROLE.BUYER, h("k"), h("n"), []))
      .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
      .withArgs(f.buyer.address, role);
    await expect(r.setRoles(f.supplier.address, ROLE.LENDER))
      .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
      .withArgs(f.buyer.address, role);
    await expect(r.suspend(f.supplier.address, 1))
      .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
      .withArgs(f.buyer.address, role);
    await expect(r.reinstate(f.supplier.address))
      .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
      .withArgs(f.buyer.address, role);
  });

  it("refuses the zero address, a second admission, invalid roles and too many KYC attributes", async () => {
    const f = await loadFixture(deployFixture);
    await expect(f.registry.admit(hre.ethers.ZeroAddress, ROLE.BUYER, h("k"), h("n"), [])).to.be.revertedWithCustomError(
      f.registry,
      "ParticipantRegistryZeroAddress",
    );
    await expect(f.registry.admit(f.buyer.address, ROLE.BUYER, h("k"), h("n"), []))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryAlreadyAdmitted")
      .withArgs(f.buyer.address);
    await expect(f.registry.admit(f.outsider.address, 0, h("k"), h("n"), []))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryInvalidRoles")
      .withArgs(0);
    await expect(f.registry.admit(f.outsider.address, 16, h("k"), h("n"), []))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryInvalidRoles")
      .withArgs(16);
    const attrs = Array.from({ length: 17 }, (_, i) => h(`a${i}`));
    await expect(f.registry.admit(f.outsider.address, ROLE.BUYER, h("k"), h("n"), attrs))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryTooManyAttributes")
      .withArgs(17, 16);
  });

  it("replaces a participant's KYC hashes (operator only), refusing unknown accounts and too many attributes", async () => {
    const f = await loadFixture(deployFixture);
    const attrs = [h("rotated legal rep"), h("rotated bank account")];
    await expect(f.registry.updateKyc(f.supplier.address, h("dossier v2"), h("name v2"), attrs))
      .to.emit(f.registry, "ParticipantKycUpdated")
      .withArgs(f.supplier.address, h("dossier v2"), h("name v2"), attrs);
    const p = await f.registry.participant(f.supplier.address);
    expect([p.kycDossierHash, p.displayNameHash]).to.deep.equal([h("dossier v2"), h("name v2")]);
    await expect(as(f.registry, f.supplier).updateKyc(f.supplier.address, h("d"), h("n"), []))
      .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
      .withArgs(f.supplier.address, await f.registry.OPERATOR_ROLE());
    await expect(f.registry.updateKyc(f.outsider.address, h("d"), h("n"), []))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryUnknownParticipant")
      .withArgs(f.outsider.address);
    const tooMany = Array.from({ length: 17 }, (_, i) => h(`a${i}`));
    await expect(f.registry.updateKyc(f.supplier.address, h("d"), h("n"), tooMany))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryTooManyAttributes")
      .withArgs(17, 16);
  });

  it("changes roles of a known participant and refuses an unknown one or invalid roles", async () => {
    const f = await loadFixture(deployFixture);
    await expect(f.registry.setRoles(f.supplier.address, ROLE.SUPPLIER | ROLE.LENDER))
      .to.emit(f.registry, "ParticipantRolesChanged")
      .withArgs(f.supplier.address, ROLE.SUPPLIER | ROLE.LENDER);
    expect(await f.registry.isActiveAs(f.supplier.address, ROLE.LENDER)).to.equal(true);
    await expect(f.registry.setRoles(f.outsider.address, ROLE.BUYER))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryUnknownParticipant")
      .withArgs(f.outsider.address);
    await expect(f.registry.setRoles(f.supplier.address, 0))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryInvalidRoles")
      .withArgs(0);
  });

  it("suspends and reinstates a participant, refusing a double suspension, a needless reinstatement and unknown accounts", async () => {
    const f = await loadFixture(deployFixture);
    await expect(f.registry.suspend(f.supplier.address, 12)).to.emit(f.registry, "ParticipantSuspended").withArgs(f.supplier.address, 12);
    expect(await f.registry.isActiveAs(f.supplier.address, ROLE.SUPPLIER)).to.equal(false);
    expect((await f.registry.participant(f.supplier.address)).suspended).to.equal(true);
    await expect(f.registry.suspend(f.supplier.address, 12))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryAlreadySuspended")
      .withArgs(f.supplier.address);
    await expect(f.registry.reinstate(f.supplier.address)).to.emit(f.registry, "ParticipantReinstated").withArgs(f.supplier.address);
    expect(await f.registry.isActiveAs(f.supplier.address, ROLE.SUPPLIER)).to.equal(true);
    await expect(f.registry.reinstate(f.supplier.address))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryNotSuspended")
      .withArgs(f.supplier.address);
    await expect(f.registry.suspend(f.outsider.address, 1))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryUnknownParticipant")
      .withArgs(f.outsider.address);
    await expect(f.registry.reinstate(f.outsider.address))
      .to.be.revertedWithCustomError(f.registry, "ParticipantRegistryUnknownParticipant")
      .withArgs(f.outsider.address);
  });

  describe("a suspended participant can start nothing new", () => {
    it("cannot create or accept an order", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Created });
      await f.registry.suspend(f.buyer.address, 1);
      await expect(as(f.orders, f.buyer).createOrder(f.supplier.address, 1n, h("po"), (await now()) + DAY))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersNotActiveParticipant")
        .withArgs(f.buyer.address, ROLE.BUYER);
      await f.registry.reinstate(f.buyer.address);
      await f.registry.suspend(f.supplier.address, 1);
      await expect(as(f.orders, f.supplier).accept(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersNotActiveParticipant")
        .withArgs(f.supplier.address, ROLE.SUPPLIER);
      await expect(as(f.orders, f.buyer).createOrder(f.supplier.address, 1n, h("po"), (await now()) + DAY))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersNotActiveParticipant")
        .withArgs(f.supplier.address, ROLE.SUPPLIER);
    });

    it("cannot issue a receivable, and a suspended debtor cannot acknowledge one", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f);
      await f.registry.suspend(f.supplier.address, 1);
      await expect(as(f.receivables, f.supplier).issue(orderId, h("inv"), h("INV-S"), ORDER_AMOUNT, (await now()) + DAY))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.supplier.address, ROLE.SUPPLIER);
      await f.registry.reinstate(f.supplier.address);
      const id = await issueReceivable(f, { orderId });
      await f.registry.suspend(f.buyer.address, 1);
      await expect(as(f.receivables, f.buyer).acknowledge(id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.buyer.address, ROLE.BUYER);
    });

    it("cannot receive a transferred receivable", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await f.registry.suspend(f.supplier2.address, 1);
      await expect(as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.supplier2.address, 0);
    });

    it("cannot enter a loan agreement as borrower or lender, and a suspended lender cannot disburse", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      const bs = await signTerms(f, f.supplier, terms);
      const ls = await signTerms(f, f.lender, terms);
      await f.registry.suspend(f.supplier.address, 1);
      await expect(f.loans.submitAgreement(terms, bs, ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotActiveParticipant")
        .withArgs(f.supplier.address, ROLE.SUPPLIER);
      await f.registry.reinstate(f.supplier.address);
      await f.registry.suspend(f.lender.address, 1);
      await expect(f.loans.submitAgreement(terms, bs, ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotActiveParticipant")
        .withArgs(f.lender.address, ROLE.LENDER);
      await f.registry.reinstate(f.lender.address);
      const { loanId } = await signedLoan(f, { collateral: [await confirmedReceivable(f)] });
      await f.registry.suspend(f.lender.address, 1);
      await expect(as(f.loans, f.lender).disburse(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotActiveParticipant")
        .withArgs(f.lender.address, ROLE.LENDER);
    });

    it("cannot grant consent, be granted consent, or anchor evidence", async () => {
      const f = await loadFixture(deployFixture);
      const expires = (await now()) + 30 * DAY;
      await f.registry.suspend(f.supplier.address, 1);
      await expect(as(f.consent, f.supplier).grant(f.lender.address, 1, expires, h("app")))
        .to.be.revertedWithCustomError(f.consent, "ConsentRegistryNotActiveParticipant")
        .withArgs(f.supplier.address, 0);
      await expect(as(f.notary, f.supplier).anchor(h("doc"), 1, h("ref")))
        .to.be.revertedWithCustomError(f.notary, "EvidenceNotaryNotActiveParticipant")
        .withArgs(f.supplier.address);
      await f.registry.suspend(f.lender.address, 1);
      await expect(as(f.consent, f.supplier2).grant(f.lender.address, 1, expires, h("app")))
        .to.be.revertedWithCustomError(f.consent, "ConsentRegistryNotActiveParticipant")
        .withArgs(f.lender.address, ROLE.LENDER);
    });

    it("keeps its history: a suspended debtor still pays and a suspended borrower still repays", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const { loanId } = await signedLoan(f, { collateral: [r] });
      await as(f.loans, f.lender).disburse(loanId);
      await f.registry.suspend(f.supplier.address, 1);
      await f.registry.suspend(f.buyer.address, 1);
      await expect(as(f.loans, f.supplier).repay(loanId, 100n)).to.emit(f.loans, "LoanRepaid");
      await expect(as(f.receivables, f.buyer).pay(r, 100n)).to.emit(f.receivables, "ReceivablePaid");
    });
  });
});
