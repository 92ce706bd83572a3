import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { hashTypedData, recoverTypedDataAddress, type Hex } from "viem";
import { TypedDataEncoder } from "ethers";
import {
  DAY,
  GRACE_PERIOD,
  LOAN_TYPES_ETHERS,
  LoanStatus,
  ORDER_AMOUNT,
  ReceivableStatus,
  YEAR,
  as,
  confirmedReceivable,
  deployFixture,
  highS,
  issueReceivable,
  loanDomain,
  makeTerms,
  nextTime,
  now,
  signTerms,
  signedLoan,
  type Fixture,
} from "./fixture";
import {
  LOAN_TERMS_TYPES,
  RECEIVABLE_ACKNOWLEDGMENT_TYPES,
  ROLE,
  acknowledgmentTypedData,
  loanTermsTypedData,
  type LoanTerms,
} from "../../node-service/src/chain/eip712";

function termsTuple(t: LoanTerms) {
  return [
    t.borrower,
    t.lender,
    t.currency,
    t.principal,
    t.rateBps,
    t.start,
    t.disburseBy,
    t.maturity,
    t.collateral,
    t.documentHash,
    t.nonce,
    t.deadline,
  ];
}

function totalDue(t: LoanTerms): bigint {
  return t.principal + (t.principal * t.rateBps * (t.maturity - t.start)) / (BigInt(YEAR) * 10_000n);
}

/** The type string EIP-712 prescribes, built from the shared TypeScript field list. */
function typeString(name: string, fields: readonly { name: string; type: string }[]): string {
  return `${name}(${fields.map((x) => `${x.type} ${x.name}`).join(",")})`;
}

async function loansAddress(f: Fixture): Promise<Hex> {
  return (await f.loans.getAddress()) as Hex;
}

describe("LoanAgreements", () => {
  describe("EIP-712 definitions shared with the service", () => {
    it("LoanTerms type string of eip712.ts hashes to the contract's LOAN_TERMS_TYPEHASH", async () => {
      const f = await loadFixture(deployFixture);
      const onChain = await f.loans.LOAN_TERMS_TYPEHASH();
      expect(hre.ethers.id(typeString("LoanTerms", LOAN_TERMS_TYPES.LoanTerms))).to.equal(onChain);
      expect(hre.ethers.id(TypedDataEncoder.from(LOAN_TYPES_ETHERS).encodeType("LoanTerms"))).to.equal(onChain);
    });

    it("ReceivableAcknowledgment type string of eip712.ts hashes to the contract's ACKNOWLEDGMENT_TYPEHASH", async () => {
      const f = await loadFixture(deployFixture);
      const onChain = await f.receivables.ACKNOWLEDGMENT_TYPEHASH();
      const fields = RECEIVABLE_ACKNOWLEDGMENT_TYPES.ReceivableAcknowledgment;
      expect(hre.ethers.id(typeString("ReceivableAcknowledgment", fields))).to.equal(onChain);
      const types = { ReceivableAcknowledgment: [...fields] };
      expect(hre.ethers.id(TypedDataEncoder.from(types).encodeType("ReceivableAcknowledgment"))).to.equal(onChain);
    });

    it("the contracts' domains and digests equal what viem computes from eip712.ts", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      expect(await f.loans.hashTerms(terms)).to.equal(hashTypedData(loanTermsTypedData(f.chainId, await loansAddress(f), terms)));
      const domain = await f.loans.eip712Domain();
      expect([domain.name, domain.version, domain.chainId, domain.verifyingContract]).to.deep.equal([
        "LoanAgreements",
        "1",
        f.chainId,
        await f.loans.getAddress(),
      ]);
      const rec = await f.receivables.getReceivable(r);
      const ack = acknowledgmentTypedData(f.chainId, (await f.receivables.getAddress()) as Hex, {
        receivableId: r,
        orderId: rec.orderId,
        invoiceHash: (await f.receivables.invoiceHashOf(r)) as Hex,
        faceValue: rec.faceValue,
        maturity: rec.maturity,
      });
      expect(await f.receivables.acknowledgmentDigest(r)).to.equal(hashTypedData(ack));
      const rDomain = await f.receivables.eip712Domain();
      expect([rDomain.name, rDomain.version]).to.deep.equal(["Receivables", "1"]);
    });
  });

  describe("submitAgreement", () => {
    it("records both ethers signatures submitted by a third party, notarizes the terms and pledges the collateral", async () => {
      const f = await loadFixture(deployFixture);
      const r1 = await confirmedReceivable(f);
      const r2 = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r1, r2] });
      const bs = await signTerms(f, f.supplier, terms);
      const ls = await signTerms(f, f.lender, terms);
      const digest = await f.loans.hashTerms(terms);
      const due = totalDue(terms);
      const at = await nextTime();
      const tx = as(f.loans, f.other).submitAgreement(terms, bs, ls);
      await expect(tx)
        .to.emit(f.loans, "AgreementRecorded")
        .withArgs(1n, digest, f.supplier.address, f.lender.address, termsTuple(terms), due, bs, ls, f.other.address, at);
      await expect(tx).to.emit(f.receivables, "ReceivablePledged").withArgs(r1, 1n, f.supplier.address);
      await expect(tx).to.emit(f.receivables, "ReceivablePledged").withArgs(r2, 1n, f.supplier.address);
      const loan = await f.loans.getLoan(1n);
      expect(loan.borrower).to.equal(f.supplier.address);
      expect(loan.lender).to.equal(f.lender.address);
      expect(loan.principal).to.equal(terms.principal);
      expect(loan.totalDue).to.equal(due);
      expect(loan.rateBps).to.equal(terms.rateBps);
      expect(loan.maturity).to.equal(terms.maturity);
      expect(loan.collateralCount).to.equal(2n);
      expect(loan.status).to.equal(LoanStatus.Signed);
      expect(await f.loans.loanIdByDigest(digest)).to.equal(1n);
      expect(await f.loans.isLive(1n)).to.equal(true);
      expect(await f.receivables.isPledged(r1)).to.equal(true);
      expect((await f.receivables.getReceivable(r2)).pledgedLoanId).to.equal(1n);
    });

    it("accepts signatures made by viem's signTypedData from loanTermsTypedData, alone or mixed with ethers", async () => {
      const f = await loadFixture(deployFixture);
      const clients = await hre.viem.getWalletClients();
      const borrowerClient = clients.find((c) => c.account.address.toLowerCase() === f.supplier.address.toLowerCase())!;
      const lenderClient = clients.find((c) => c.account.address.toLowerCase() === f.lender.address.toLowerCase())!;
      const t1 = await makeTerms(f, { collateral: [await confirmedReceivable(f)] });
      const typed1 = loanTermsTypedData(f.chainId, await loansAddress(f), t1);
      const bs1 = await borrowerClient.signTypedData(typed1);
      const ls1 = await lenderClient.signTypedData(typed1);
      // The two libraries produce the same bytes for the same message.
      expect(bs1).to.equal(await signTerms(f, f.supplier, t1));
      await expect(f.loans.submitAgreement(t1, bs1, ls1)).to.emit(f.loans, "AgreementRecorded");
      const t2 = await makeTerms(f, { collateral: [await confirmedReceivable(f)] });
      const bs2 = await borrowerClient.signTypedData(loanTermsTypedData(f.chainId, await loansAddress(f), t2));
      const ls2 = await signTerms(f, f.lender, t2);
      await expect(f.loans.submitAgreement(t2, bs2, ls2))
        .to.emit(f.loans, "AgreementRecorded")
        .withArgs(
          2n,
          await f.loans.hashTerms(t2),
          f.supplier.address,
          f.lender.address,
          termsTuple(t2),
          totalDue(t2),
          bs2,
          ls2,
          f.operator.address,
          (v: bigint) => v > 0n,
        );
    });

    it("refuses the same signed terms a second time, whoever submits them, changing nothing", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      const bs = await signTerms(f, f.supplier, terms);
      const ls = await signTerms(f, f.lender, terms);
      await as(f.loans, f.supplier).submitAgreement(terms, bs, ls);
      const digest = await f.loans.hashTerms(terms);
      const before = await f.loans.getLoan(1n);
      for (const submitter of [f.supplier, f.lender, f.outsider]) {
        await expect(as(f.loans, submitter).submitAgreement(terms, bs, ls))
          .to.be.revertedWithCustomError(f.loans, "LoanAgreementsAlreadyRecorded")
          .withArgs(digest, 1n);
      }
      expect(await f.loans.loanCount()).to.equal(1n);
      expect(await f.loans.getLoan(1n)).to.deep.equal(before);
    });

    it("refuses to resurrect a cancelled agreement by resubmitting its signatures", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      const bs = await signTerms(f, f.supplier, terms);
      const ls = await signTerms(f, f.lender, terms);
      await f.loans.submitAgreement(terms, bs, ls);
      await as(f.loans, f.lender).cancelAgreement(1n);
      await expect(as(f.loans, f.outsider).submitAgreement(terms, bs, ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsAlreadyRecorded")
        .withArgs(await f.loans.hashTerms(terms), 1n);
    });

    it("refuses expired signatures (deadline passed)", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const deadline = BigInt(await now());
      const terms = await makeTerms(f, { collateral: [r], deadline });
      await expect(f.loans.submitAgreement(terms, await signTerms(f, f.supplier, terms), await signTerms(f, f.lender, terms)))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsExpiredSignature")
        .withArgs(deadline);
    });

    it("refuses terms whose nonce the borrower or the lender cancelled", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      const bs = await signTerms(f, f.supplier, terms);
      const ls = await signTerms(f, f.lender, terms);
      const snapshot = await hre.network.provider.send("evm_snapshot");
      await expect(as(f.loans, f.supplier).cancelNonce(terms.nonce))
        .to.emit(f.loans, "NonceCancelled")
        .withArgs(f.supplier.address, terms.nonce);
      expect(await f.loans.isNonceCancelled(f.supplier.address, terms.nonce)).to.equal(true);
      await expect(f.loans.submitAgreement(terms, bs, ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNonceCancelled")
        .withArgs(f.supplier.address, terms.nonce);
      await hre.network.provider.send("evm_revert", [snapshot]);
      await as(f.loans, f.lender).cancelNonce(terms.nonce);
      await expect(f.loans.submitAgreement(terms, bs, ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNonceCancelled")
        .withArgs(f.lender.address, terms.nonce);
    });

    it("accepts terms whose nonce only an unrelated account cancelled", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      await as(f.loans, f.supplier2).cancelNonce(terms.nonce);
      await expect(f.loans.submitAgreement(terms, await signTerms(f, f.supplier, terms), await signTerms(f, f.lender, terms))).to.emit(
        f.loans,
        "AgreementRecorded",
      );
    });

    it("refuses a signature made for another chain id", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      const other = { ...(await loanDomain(f)), chainId: 1 };
      await expect(f.loans.submitAgreement(terms, await signTerms(f, f.supplier, terms, other), await signTerms(f, f.lender, terms)))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.supplier.address);
      await expect(f.loans.submitAgreement(terms, await signTerms(f, f.supplier, terms), await signTerms(f, f.lender, terms, other)))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.lender.address);
    });

    it("refuses a signature made for another contract (another LoanAgreements deployment)", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      const bs = await signTerms(f, f.supplier, terms);
      const ls = await signTerms(f, f.lender, terms);
      const twin = await hre.ethers.deployContract("LoanAgreements", [f.registry, f.receivables, f.token, GRACE_PERIOD]);
      await expect(twin.submitAgreement(terms, bs, ls))
        .to.be.revertedWithCustomError(twin, "LoanAgreementsInvalidSignature")
        .withArgs(f.supplier.address);
      // And terms signed for the twin's address are refused here.
      const forTwin = { ...(await loanDomain(f)), verifyingContract: (await twin.getAddress()) as Hex };
      await expect(f.loans.submitAgreement(terms, await signTerms(f, f.supplier, terms, forTwin), ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.supplier.address);
    });

    it("refuses a signature by someone who is not the named party, and signatures in swapped slots", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      const bs = await signTerms(f, f.supplier, terms);
      const ls = await signTerms(f, f.lender, terms);
      await expect(f.loans.submitAgreement(terms, await signTerms(f, f.outsider, terms), ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.supplier.address);
      await expect(f.loans.submitAgreement(terms, bs, await signTerms(f, f.lender2, terms)))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.lender.address);
      await expect(f.loans.submitAgreement(terms, ls, bs))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.supplier.address);
      // A signature over other terms (principal changed after signing) is refused too.
      await expect(f.loans.submitAgreement({ ...terms, principal: terms.principal + 1n }, bs, ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.supplier.address);
    });

    it("refuses a malleable (high-s) copy of a valid signature that recovers the same signer", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const terms = await makeTerms(f, { collateral: [r] });
      const bs = await signTerms(f, f.supplier, terms);
      const ls = await signTerms(f, f.lender, terms);
      const malleable = highS(bs) as Hex;
      expect(malleable).to.not.equal(bs);
      // Plain ecrecover (the precompile) accepts it: the contract must refuse it on its own.
      const digest = await f.loans.hashTerms(terms);
      const sig = hre.ethers.getBytes(malleable);
      const input = hre.ethers.AbiCoder.defaultAbiCoder().encode(
        ["bytes32", "uint8", "bytes32", "bytes32"],
        [digest, sig[64], sig.slice(0, 32), sig.slice(32, 64)],
      );
      const recovered = await hre.ethers.provider.call({ to: "0x0000000000000000000000000000000000000001", data: input });
      expect(hre.ethers.getAddress(hre.ethers.dataSlice(recovered, 12))).to.equal(f.supplier.address);
      await expect(f.loans.submitAgreement(terms, malleable, ls))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.supplier.address);
      await expect(f.loans.submitAgreement(terms, bs, highS(ls)))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.lender.address);
      expect(await f.loans.loanCount()).to.equal(0n);
    });

    it("refuses a borrower without the supplier role and a lender without the lender role", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const asBuyer = await makeTerms(f, { collateral: [r], borrower: f.buyer.address as Hex });
      await expect(f.loans.submitAgreement(asBuyer, await signTerms(f, f.buyer, asBuyer), await signTerms(f, f.lender, asBuyer)))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotActiveParticipant")
        .withArgs(f.buyer.address, ROLE.SUPPLIER);
      const bySupplier = await makeTerms(f, { collateral: [r], lender: f.supplier2.address as Hex });
      await expect(
        f.loans.submitAgreement(bySupplier, await signTerms(f, f.supplier, bySupplier), await signTerms(f, f.supplier2, bySupplier)),
      )
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotActiveParticipant")
        .withArgs(f.supplier2.address, ROLE.LENDER);
      const byOutsider = await makeTerms(f, { collateral: [r], lender: f.outsider.address as Hex });
      await expect(
        f.loans.submitAgreement(byOutsider, await signTerms(f, f.supplier, byOutsider), await signTerms(f, f.outsider, byOutsider)),
      )
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotActiveParticipant")
        .withArgs(f.outsider.address, ROLE.LENDER);
    });

    it("refuses invalid terms, naming the field", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const t = BigInt(await now());
      const submit = async (over: Partial<LoanTerms>, lender = f.lender) => {
        const terms = await makeTerms(f, { collateral: [r], ...over });
        return f.loans.submitAgreement(terms, await signTerms(f, f.supplier, terms), await signTerms(f, lender, terms));
      };
      const invalid = "LoanAgreementsInvalidTerms";
      await expect(submit({ principal: 0n }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("principal");
      await expect(submit({ principal: 2n ** 96n }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("principal");
      await expect(submit({ rateBps: 10_001n }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("rateBps");
      await expect(submit({ start: t + 100n, maturity: t + 100n }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("maturity");
      await expect(submit({ start: t - 100n, maturity: t }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("maturity");
      await expect(submit({ maturity: 2n ** 40n }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("maturity");
      // The signed currency must be the settlement token this contract moves.
      await expect(submit({ currency: (await f.orders.getAddress()) as Hex }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("currency");
      // The disbursement deadline lies between now and maturity.
      await expect(submit({ disburseBy: t + BigInt(90 * DAY), maturity: t + BigInt(90 * DAY) }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("disburseBy");
      await expect(submit({ disburseBy: t - 1n }))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("disburseBy");
      // Borrower and lender the same account (given both roles to reach the check).
      await f.registry.setRoles(f.supplier.address, ROLE.SUPPLIER | ROLE.LENDER);
      await expect(submit({ lender: f.supplier.address as Hex }, f.supplier))
        .to.be.revertedWithCustomError(f.loans, invalid)
        .withArgs("lender");
    });

    it("refuses no collateral, more than 10, and ids not strictly ascending", async () => {
      const f = await loadFixture(deployFixture);
      const submit = async (collateral: bigint[]) => {
        const terms = await makeTerms(f, { collateral });
        return f.loans.submitAgreement(terms, await signTerms(f, f.supplier, terms), await signTerms(f, f.lender, terms));
      };
      await expect(submit([])).to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidCollateral").withArgs(0, 10);
      await expect(submit(Array.from({ length: 11 }, (_, i) => BigInt(i + 1))))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidCollateral")
        .withArgs(11, 10);
      await expect(submit([2n, 1n]))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsCollateralNotAscending")
        .withArgs(1);
      await expect(submit([1n, 3n, 3n]))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsCollateralNotAscending")
        .withArgs(2);
    });

    it("refuses collateral the borrower does not hold or that is not confirmed", async () => {
      const f = await loadFixture(deployFixture);
      const theirs = await confirmedReceivable(f, { supplier: f.supplier2 });
      const t1 = await makeTerms(f, { collateral: [theirs] });
      await expect(f.loans.submitAgreement(t1, await signTerms(f, f.supplier, t1), await signTerms(f, f.lender, t1)))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotHolder")
        .withArgs(theirs, f.supplier2.address, f.supplier.address);
      const unconfirmed = await issueReceivable(f);
      const t2 = await makeTerms(f, { collateral: [unconfirmed] });
      await expect(f.loans.submitAgreement(t2, await signTerms(f, f.supplier, t2), await signTerms(f, f.lender, t2)))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(unconfirmed, ReceivableStatus.Issued);
      const t3 = await makeTerms(f, { collateral: [99n] });
      await expect(f.loans.submitAgreement(t3, await signTerms(f, f.supplier, t3), await signTerms(f, f.lender, t3)))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesUnknownReceivable")
        .withArgs(99n);
    });

    it("refuses a second pledge of the same receivable while its loan is live, signed or active", async () => {
      const f = await loadFixture(deployFixture);
      const other = await confirmedReceivable(f);
      const r = await confirmedReceivable(f);
      const { loanId } = await signedLoan(f, { collateral: [r] });
      const again = await makeTerms(f, { collateral: [other, r], lender: f.lender2.address as Hex });
      const bs = await signTerms(f, f.supplier, again);
      const ls = await signTerms(f, f.lender2, again);
      await expect(f.loans.submitAgreement(again, bs, ls))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesPledged")
        .withArgs(r, loanId);
      await as(f.loans, f.lender).disburse(loanId);
      await expect(f.loans.submitAgreement(again, bs, ls))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesPledged")
        .withArgs(r, loanId);
      // The failed attempt pledged nothing (atomic).
      expect(await f.receivables.isPledged(other)).to.equal(false);
      await as(f.loans, f.supplier).repay(loanId, (await f.loans.getLoan(loanId)).totalDue);
      await expect(f.loans.submitAgreement(again, bs, ls))
        .to.emit(f.receivables, "ReceivablePledged")
        .withArgs(r, 2n, f.supplier.address);
    });
  });

  describe("ERC-1271 contract wallets", () => {
    async function walletHoldsReceivable(f: Fixture): Promise<bigint> {
      const r = await confirmedReceivable(f);
      await as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.walletAddress, r);
      return r;
    }

    it("accepts a borrower wallet whose owner signed, and the wallet repays through execute()", async () => {
      const f = await loadFixture(deployFixture);
      const r = await walletHoldsReceivable(f);
      const terms = await makeTerms(f, { collateral: [r], borrower: f.walletAddress as Hex });
      const ws = await signTerms(f, f.walletOwner, terms);
      await expect(f.loans.submitAgreement(terms, ws, await signTerms(f, f.lender, terms)))
        .to.emit(f.loans, "AgreementRecorded")
        .withArgs(
          1n,
          await f.loans.hashTerms(terms),
          f.walletAddress,
          f.lender.address,
          termsTuple(terms),
          totalDue(terms),
          ws,
          (v: string) => v.length === 132,
          f.operator.address,
          (v: bigint) => v > 0n,
        );
      await expect(as(f.loans, f.lender).disburse(1n)).to.changeTokenBalances(
        f.token,
        [f.lender, f.walletAddress],
        [-terms.principal, terms.principal],
      );
      const tokenAddr = await f.token.getAddress();
      const loansAddr = await f.loans.getAddress();
      const wallet = as(f.wallet, f.walletOwner);
      await wallet.execute(tokenAddr, f.token.interface.encodeFunctionData("approve", [loansAddr, 1_000n]));
      await expect(wallet.execute(loansAddr, f.loans.interface.encodeFunctionData("repay", [1n, 1_000n])))
        .to.emit(f.loans, "LoanRepaid")
        .withArgs(1n, f.lender.address, 0n, 1_000n, 1_000n, totalDue(terms) - 1_000n, (v: bigint) => v > 0n);
    });

    it("refuses a wallet that answers ERC-1271 with a wrong magic value", async () => {
      const f = await loadFixture(deployFixture);
      const r = await walletHoldsReceivable(f);
      const terms = await makeTerms(f, { collateral: [r], borrower: f.walletAddress as Hex });
      const ws = await signTerms(f, f.walletOwner, terms);
      await as(f.wallet, f.walletOwner).setLie(true);
      await expect(f.loans.submitAgreement(terms, ws, await signTerms(f, f.lender, terms)))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.walletAddress);
    });

    it("refuses a wallet signature made by someone other than its owner", async () => {
      const f = await loadFixture(deployFixture);
      const r = await walletHoldsReceivable(f);
      const terms = await makeTerms(f, { collateral: [r], borrower: f.walletAddress as Hex });
      await expect(f.loans.submitAgreement(terms, await signTerms(f, f.outsider, terms), await signTerms(f, f.lender, terms)))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidSignature")
        .withArgs(f.walletAddress);
    });

    it("lets only the wallet's owner drive it", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.wallet, f.outsider).setLie(true))
        .to.be.revertedWithCustomError(f.wallet, "ERC1271WalletNotOwner")
        .withArgs(f.outsider.address);
      await expect(as(f.wallet, f.outsider).execute(f.outsider.address, "0x"))
        .to.be.revertedWithCustomError(f.wallet, "ERC1271WalletNotOwner")
        .withArgs(f.outsider.address);
    });
  });

  describe("disbursement", () => {
    it("moves the principal from the lender to the borrower and makes the loan active", async () => {
      const f = await loadFixture(deployFixture);
      const { loanId, terms } = await signedLoan(f, { collateral: [await confirmedReceivable(f)] });
      const at = await nextTime();
      const tx = as(f.loans, f.lender).disburse(loanId);
      await expect(tx).to.emit(f.loans, "LoanDisbursed").withArgs(loanId, f.lender.address, f.supplier.address, terms.principal, at);
      await expect(tx).to.changeTokenBalances(f.token, [f.lender, f.supplier, f.loans], [-terms.principal, terms.principal, 0n]);
      const loan = await f.loans.getLoan(loanId);
      expect(loan.status).to.equal(LoanStatus.Active);
      expect(loan.disbursedAt).to.equal(BigInt(at));
      expect(await f.loans.isLive(loanId)).to.equal(true);
    });

    it("refuses disbursement by anyone but the lender, twice, past the signed disbursement deadline, and of an unknown loan", async () => {
      const f = await loadFixture(deployFixture);
      const { loanId, terms } = await signedLoan(f, { collateral: [await confirmedReceivable(f)] });
      await expect(as(f.loans, f.supplier).disburse(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsUnauthorized")
        .withArgs(loanId, f.supplier.address);
      await expect(as(f.loans, f.lender).disburse(9n)).to.be.revertedWithCustomError(f.loans, "LoanAgreementsUnknownLoan").withArgs(9n);
      const snapshot = await hre.network.provider.send("evm_snapshot");
      await time.increaseTo(terms.maturity);
      await expect(as(f.loans, f.lender).disburse(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsDisbursementExpired")
        .withArgs(loanId, terms.disburseBy);
      await hre.network.provider.send("evm_revert", [snapshot]);
      await as(f.loans, f.lender).disburse(loanId);
      await expect(as(f.loans, f.lender).disburse(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(loanId, LoanStatus.Active);
    });

    it("refuses a lender who holds the collateral past the signed disbursement deadline; the borrower then cancels and takes it back (attack of issue 11)", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const { loanId, terms } = await signedLoan(f, { collateral: [r] });
      expect((await f.loans.getLoan(loanId)).disburseBy).to.equal(terms.disburseBy);
      // At the deadline itself the lender may still disburse; one second later it may not.
      const snapshot = await hre.network.provider.send("evm_snapshot");
      await time.setNextBlockTimestamp(terms.disburseBy);
      await expect(as(f.loans, f.lender).disburse(loanId)).to.emit(f.loans, "LoanDisbursed");
      await hre.network.provider.send("evm_revert", [snapshot]);
      await time.setNextBlockTimestamp(terms.disburseBy + 1n);
      await expect(as(f.loans, f.lender).disburse(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsDisbursementExpired")
        .withArgs(loanId, terms.disburseBy);
      await as(f.loans, f.supplier).cancelAgreement(loanId);
      expect(await f.receivables.isPledged(r)).to.equal(false);
    });
  });

  describe("repayment", () => {
    it("takes repayments in parts and closes the loan on full repayment, releasing the collateral", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const { loanId, terms } = await signedLoan(f, { collateral: [r] });
      await as(f.loans, f.lender).disburse(loanId);
      const due = totalDue(terms);
      let at = await nextTime();
      const first = as(f.loans, f.supplier).repay(loanId, 200_000n);
      await expect(first)
        .to.emit(f.loans, "LoanRepaid")
        .withArgs(loanId, f.lender.address, 0n, 200_000n, 200_000n, due - 200_000n, at);
      await expect(first).to.changeTokenBalances(f.token, [f.supplier, f.lender], [-200_000n, 200_000n]);
      expect((await f.loans.getLoan(loanId)).status).to.equal(LoanStatus.Active);
      at = await nextTime();
      const last = as(f.loans, f.supplier).repay(loanId, due - 200_000n);
      await expect(last)
        .to.emit(f.loans, "LoanRepaid")
        .withArgs(loanId, f.lender.address, 0n, due - 200_000n, due, 0n, at);
      await expect(last).to.emit(f.loans, "LoanClosed").withArgs(loanId, LoanStatus.Repaid, at);
      const loan = await f.loans.getLoan(loanId);
      expect(loan.status).to.equal(LoanStatus.Repaid);
      expect(loan.repaid).to.equal(due);
      expect(await f.loans.isLive(loanId)).to.equal(false);
      expect(await f.receivables.isPledged(r)).to.equal(false);
      await as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.lender2.address, r);
    });

    it("refuses repayment by anyone but the borrower, before disbursement, of zero, above what is outstanding, and after closing", async () => {
      const f = await loadFixture(deployFixture);
      const { loanId, terms } = await signedLoan(f, { collateral: [await confirmedReceivable(f)] });
      const due = totalDue(terms);
      await expect(as(f.loans, f.supplier).repay(loanId, 1n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(loanId, LoanStatus.Signed);
      await as(f.loans, f.lender).disburse(loanId);
      await expect(as(f.loans, f.lender).repay(loanId, 1n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsUnauthorized")
        .withArgs(loanId, f.lender.address);
      await expect(as(f.loans, f.supplier).repay(loanId, 0n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsOverpayment")
        .withArgs(loanId, due, 0n);
      await expect(as(f.loans, f.supplier).repay(loanId, due + 1n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsOverpayment")
        .withArgs(loanId, due, due + 1n);
      await as(f.loans, f.supplier).repay(loanId, due);
      await expect(as(f.loans, f.supplier).repay(loanId, 1n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(loanId, LoanStatus.Repaid);
    });

    it("lets only Receivables apply a receivable payment", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.loans, f.buyer).applyReceivablePayment(1n, 1n, 1n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsOnlyReceivables")
        .withArgs(f.buyer.address);
    });
  });

  describe("the receivable waterfall", () => {
    it("pays the pledged active loan first, in parts, then the rest to the holder, closing the loan and releasing the collateral", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f); // face 1,000,000
      const { loanId, terms } = await signedLoan(f, { collateral: [r] });
      await as(f.loans, f.lender).disburse(loanId);
      const due = totalDue(terms);
      let at = await nextTime();
      const part = as(f.receivables, f.buyer).pay(r, 300_000n);
      await expect(part)
        .to.emit(f.receivables, "ReceivablePaid")
        .withArgs(r, f.buyer.address, f.supplier.address, 300_000n, 300_000n, loanId, 300_000n, false, at);
      await expect(part)
        .to.emit(f.loans, "LoanRepaid")
        .withArgs(loanId, f.lender.address, r, 300_000n, 300_000n, due - 300_000n, at);
      await expect(part).to.changeTokenBalances(f.token, [f.buyer, f.lender, f.supplier], [-300_000n, 300_000n, 0n]);
      at = await nextTime();
      const rest = as(f.receivables, f.buyer).pay(r, 700_000n);
      const toLoan = due - 300_000n;
      await expect(rest)
        .to.emit(f.receivables, "ReceivablePaid")
        .withArgs(r, f.buyer.address, f.supplier.address, 700_000n, toLoan, loanId, ORDER_AMOUNT, true, at);
      await expect(rest).to.emit(f.loans, "LoanClosed").withArgs(loanId, LoanStatus.Repaid, at);
      await expect(rest).to.changeTokenBalances(f.token, [f.buyer, f.lender, f.supplier], [-700_000n, toLoan, 700_000n - toLoan]);
      expect((await f.loans.getLoan(loanId)).repaid).to.equal(due);
      expect(await f.receivables.isPledged(r)).to.equal(false);
      expect((await f.receivables.getReceivable(r)).status).to.equal(ReceivableStatus.Paid);
    });

    it("pays the holder alone while the pledged loan is not yet disbursed", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const { loanId } = await signedLoan(f, { collateral: [r] });
      const at = await nextTime();
      const tx = as(f.receivables, f.buyer).pay(r, 100_000n);
      await expect(tx)
        .to.emit(f.receivables, "ReceivablePaid")
        .withArgs(r, f.buyer.address, f.supplier.address, 100_000n, 0n, 0n, 100_000n, false, at);
      await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.supplier, f.lender], [-100_000n, 100_000n, 0n]);
      await expect(tx).not.to.emit(f.loans, "LoanRepaid");
      expect((await f.loans.getLoan(loanId)).repaid).to.equal(0n);
    });

    it("releases every collateral of a loan repaid through one of them", async () => {
      const f = await loadFixture(deployFixture);
      const a = await confirmedReceivable(f);
      const b = await confirmedReceivable(f);
      const { loanId, terms } = await signedLoan(f, { collateral: [a, b] });
      await as(f.loans, f.lender).disburse(loanId);
      await as(f.receivables, f.buyer).pay(a, totalDue(terms));
      expect((await f.loans.getLoan(loanId)).status).to.equal(LoanStatus.Repaid);
      expect(await f.receivables.isPledged(b)).to.equal(false);
      await as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.supplier2.address, b);
      await expect(as(f.receivables, f.buyer).pay(a, 1n))
        .to.emit(f.receivables, "ReceivablePaid")
        .withArgs(a, f.buyer.address, f.supplier.address, 1n, 0n, 0n, totalDue(terms) + 1n, false, (v: bigint) => v > 0n);
    });
  });

  describe("default", () => {
    async function activeLoanWithTwoCollateral(f: Fixture) {
      const a = await confirmedReceivable(f);
      const b = await confirmedReceivable(f);
      const { loanId, terms } = await signedLoan(f, { collateral: [a, b] });
      await as(f.loans, f.lender).disburse(loanId);
      return { a, b, loanId, terms, defaultableAt: terms.maturity + BigInt(GRACE_PERIOD) };
    }

    it("refuses a default before maturity plus the grace period, and by anyone but the lender", async () => {
      const f = await loadFixture(deployFixture);
      const { loanId, defaultableAt } = await activeLoanWithTwoCollateral(f);
      await expect(as(f.loans, f.lender).declareDefault(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotOverdue")
        .withArgs(loanId, defaultableAt);
      await time.setNextBlockTimestamp(defaultableAt);
      await expect(as(f.loans, f.lender).declareDefault(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotOverdue")
        .withArgs(loanId, defaultableAt);
      await expect(as(f.loans, f.supplier).declareDefault(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsUnauthorized")
        .withArgs(loanId, f.supplier.address);
    });

    it("refuses a default of a loan that is not active, or unknown", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.loans, f.lender).declareDefault(5n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsUnknownLoan")
        .withArgs(5n);
      const r = await confirmedReceivable(f);
      const { loanId, terms } = await signedLoan(f, { collateral: [r] });
      await time.increaseTo(terms.maturity + BigInt(GRACE_PERIOD) + 1n);
      await expect(as(f.loans, f.lender).declareDefault(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(loanId, LoanStatus.Signed);
    });

    it("lets the lender declare a default after the grace period; the collateral stays pledged with the borrower and keeps paying the loan first", async () => {
      const f = await loadFixture(deployFixture);
      const { a, b, loanId, terms, defaultableAt } = await activeLoanWithTwoCollateral(f);
      await as(f.loans, f.supplier).repay(loanId, 100_000n);
      await time.setNextBlockTimestamp(defaultableAt + 1n);
      const tx = as(f.loans, f.lender).declareDefault(loanId);
      await expect(tx)
        .to.emit(f.loans, "LoanDefaulted")
        .withArgs(loanId, f.lender.address, f.supplier.address, totalDue(terms) - 100_000n, defaultableAt + 1n);
      await expect(tx).not.to.emit(f.receivables, "Transfer");
      expect(await f.receivables.ownerOf(a)).to.equal(f.supplier.address);
      expect(await f.receivables.ownerOf(b)).to.equal(f.supplier.address);
      expect((await f.loans.getLoan(loanId)).status).to.equal(LoanStatus.Defaulted);
      expect(await f.loans.isLive(loanId)).to.equal(true);
      expect((await f.receivables.getReceivable(a)).pledgedLoanId).to.equal(loanId);
      // The debtor's payment goes to the loan first.
      await expect(as(f.receivables, f.buyer).pay(a, 5_000n)).to.changeTokenBalances(
        f.token,
        [f.buyer, f.lender, f.supplier],
        [-5_000n, 5_000n, 0n],
      );
      await expect(as(f.loans, f.lender).declareDefault(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(loanId, LoanStatus.Defaulted);
    });

    it("refuses a default declared by a suspended lender (attack of issue 11)", async () => {
      const f = await loadFixture(deployFixture);
      const { loanId, defaultableAt } = await activeLoanWithTwoCollateral(f);
      await time.increaseTo(defaultableAt + 1n);
      await f.registry.suspend(f.lender.address, 1);
      await expect(as(f.loans, f.lender).declareDefault(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsNotActiveParticipant")
        .withArgs(f.lender.address, ROLE.LENDER);
      // The borrower's repayment still reaches the suspended lender: a debt is settled whatever happens to the creditor.
      await expect(as(f.loans, f.supplier).repay(loanId, 1_000n)).to.changeTokenBalances(
        f.token,
        [f.supplier, f.lender],
        [-1_000n, 1_000n],
      );
    });

    it("accepts repayments after a default and marks the loan Recovered when complete", async () => {
      const f = await loadFixture(deployFixture);
      const { loanId, terms, defaultableAt } = await activeLoanWithTwoCollateral(f);
      await time.increaseTo(defaultableAt + 1n);
      await as(f.loans, f.lender).declareDefault(loanId);
      const due = totalDue(terms);
      await expect(as(f.loans, f.supplier).repay(loanId, 10_000n))
        .to.emit(f.loans, "LoanRepaid")
        .withArgs(loanId, f.lender.address, 0n, 10_000n, 10_000n, due - 10_000n, (v: bigint) => v > 0n);
      expect((await f.loans.getLoan(loanId)).status).to.equal(LoanStatus.Defaulted);
      const at = await nextTime();
      await expect(as(f.loans, f.supplier).repay(loanId, due - 10_000n))
        .to.emit(f.loans, "LoanClosed")
        .withArgs(loanId, LoanStatus.Recovered, at);
      expect((await f.loans.getLoan(loanId)).status).to.equal(LoanStatus.Recovered);
      await expect(as(f.loans, f.supplier).repay(loanId, 1n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(loanId, LoanStatus.Recovered);
    });
  });

  describe("money after a default goes only where the agreement says (attacks of issue 11)", () => {
    /** 5,000.00 at 8% for 90 days (5,098.63 due) against two receivables of 10,000.00 each. */
    async function defaultedLoan(f: Fixture, repaidBefore = 0n) {
      const a = await confirmedReceivable(f);
      const b = await confirmedReceivable(f);
      const { loanId, terms } = await signedLoan(f, { collateral: [a, b] });
      await as(f.loans, f.lender).disburse(loanId);
      if (repaidBefore > 0n) await as(f.loans, f.supplier).repay(loanId, repaidBefore);
      await time.increaseTo(terms.maturity + BigInt(GRACE_PERIOD) + 1n);
      await as(f.loans, f.lender).declareDefault(loanId);
      return { a, b, loanId, due: totalDue(terms) };
    }

    it("caps the lender's take at what is owed when the debtor pays the collateral after a default; the surplus goes to the borrower", async () => {
      const f = await loadFixture(deployFixture);
      const lenderBefore = (await f.token.balanceOf(f.lender.address)) as bigint;
      const { a, b, loanId, due } = await defaultedLoan(f);
      expect(due).to.equal(509_863n);
      // The debtor pays the first collateral in full: the loan first, the rest to the borrower.
      const first = as(f.receivables, f.buyer).pay(a, ORDER_AMOUNT);
      await expect(first)
        .to.emit(f.loans, "LoanRepaid")
        .withArgs(loanId, f.lender.address, a, due, due, 0n, (v: bigint) => v > 0n);
      await expect(first)
        .to.emit(f.loans, "LoanClosed")
        .withArgs(loanId, LoanStatus.Recovered, (v: bigint) => v > 0n);
      await expect(first).to.changeTokenBalances(f.token, [f.buyer, f.lender, f.supplier], [-ORDER_AMOUNT, due, ORDER_AMOUNT - due]);
      // The second collateral is the borrower's again, and so is everything paid on it.
      expect(await f.receivables.isPledged(b)).to.equal(false);
      expect(await f.receivables.ownerOf(b)).to.equal(f.supplier.address);
      await expect(as(f.receivables, f.buyer).pay(b, ORDER_AMOUNT)).to.changeTokenBalances(
        f.token,
        [f.buyer, f.lender, f.supplier],
        [-ORDER_AMOUNT, 0n, ORDER_AMOUNT],
      );
      // Net: the lender lent 5,000.00 and got back exactly what was owed, not 20,098.63.
      expect(((await f.token.balanceOf(f.lender.address)) as bigint) - lenderBefore).to.equal(due - 500_000n);
      await expect(as(f.loans, f.supplier).repay(loanId, 1n))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(loanId, LoanStatus.Recovered);
    });

    it("leaves the collateral with a borrower who repaid all but 0.01 and returns it, unpledged, once the 0.01 is paid", async () => {
      const f = await loadFixture(deployFixture);
      const due = 509_863n;
      const { a, b, loanId } = await defaultedLoan(f, due - 1n);
      expect(await f.receivables.ownerOf(a)).to.equal(f.supplier.address);
      expect(await f.receivables.ownerOf(b)).to.equal(f.supplier.address);
      // Still pledged while the loan is Defaulted: the borrower cannot move it away from the lender's claim.
      expect(await f.receivables.isPledged(a)).to.equal(true);
      await expect(as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.supplier2.address, a))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesPledged")
        .withArgs(a, loanId);
      await expect(as(f.loans, f.supplier).repay(loanId, 1n))
        .to.emit(f.loans, "LoanClosed")
        .withArgs(loanId, LoanStatus.Recovered, (v: bigint) => v > 0n);
      expect(await f.receivables.isPledged(a)).to.equal(false);
      expect(await f.receivables.isPledged(b)).to.equal(false);
      await as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.supplier2.address, a);
      await expect(as(f.receivables, f.buyer).pay(b, ORDER_AMOUNT)).to.changeTokenBalances(
        f.token,
        [f.lender, f.supplier],
        [0n, ORDER_AMOUNT],
      );
    });

    it("counts the borrower's direct repayments after a default against the same cap as collections", async () => {
      const f = await loadFixture(deployFixture);
      const { a, loanId, due } = await defaultedLoan(f);
      await as(f.loans, f.supplier).repay(loanId, 9_863n);
      await expect(as(f.receivables, f.buyer).pay(a, 600_000n)).to.changeTokenBalances(
        f.token,
        [f.lender, f.supplier],
        [due - 9_863n, 600_000n - (due - 9_863n)],
      );
      expect((await f.loans.getLoan(loanId)).repaid).to.equal(due);
    });
  });

  describe("collateral paid before disbursement (attack of issue 11)", () => {
    it("refuses to disburse once a collateral was paid down after signing, naming the receivable", async () => {
      const f = await loadFixture(deployFixture);
      const a = await confirmedReceivable(f);
      const b = await confirmedReceivable(f);
      const { loanId } = await signedLoan(f, { collateral: [a, b] });
      await as(f.receivables, f.buyer).pay(b, ORDER_AMOUNT);
      await expect(as(f.loans, f.lender).disburse(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsCollateralPaidDown")
        .withArgs(loanId, b);
      // Either party can then walk away; the other collateral is free again.
      await as(f.loans, f.supplier).cancelAgreement(loanId);
      expect(await f.receivables.isPledged(a)).to.equal(false);
    });

    it("refuses even a partial payment of 0.01 on the collateral before disbursement", async () => {
      const f = await loadFixture(deployFixture);
      const a = await confirmedReceivable(f);
      const { loanId } = await signedLoan(f, { collateral: [a] });
      await as(f.receivables, f.buyer).pay(a, 1n);
      await expect(as(f.loans, f.lender).disburse(loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsCollateralPaidDown")
        .withArgs(loanId, a);
    });
  });

  describe("cancelAgreement", () => {
    it("lets either party cancel before disbursement, releasing the collateral for a new loan", async () => {
      const f = await loadFixture(deployFixture);
      const r = await confirmedReceivable(f);
      const { loanId } = await signedLoan(f, { collateral: [r] });
      const at = await nextTime();
      await expect(as(f.loans, f.lender).cancelAgreement(loanId)).to.emit(f.loans, "LoanCancelled").withArgs(loanId, f.lender.address, at);
      expect((await f.loans.getLoan(loanId)).status).to.equal(LoanStatus.Cancelled);
      expect(await f.loans.isLive(loanId)).to.equal(false);
      expect(await f.receivables.isPledged(r)).to.equal(false);
      const second = await signedLoan(f, { collateral: [r] }, { lender: f.lender2 });
      await expect(as(f.loans, f.supplier).cancelAgreement(second.loanId))
        .to.emit(f.loans, "LoanCancelled")
        .withArgs(second.loanId, f.supplier.address, (v: bigint) => v > 0n);
    });

    it("refuses a cancellation by a third party, after disbursement, and twice", async () => {
      const f = await loadFixture(deployFixture);
      const a = await signedLoan(f, { collateral: [await confirmedReceivable(f)] });
      await expect(as(f.loans, f.outsider).cancelAgreement(a.loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsUnauthorized")
        .withArgs(a.loanId, f.outsider.address);
      await as(f.loans, f.lender).disburse(a.loanId);
      await expect(as(f.loans, f.supplier).cancelAgreement(a.loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(a.loanId, LoanStatus.Active);
      const b = await signedLoan(f, { collateral: [await confirmedReceivable(f)] });
      await as(f.loans, f.supplier).cancelAgreement(b.loanId);
      await expect(as(f.loans, f.lender).cancelAgreement(b.loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(b.loanId, LoanStatus.Cancelled);
      await expect(as(f.loans, f.lender).disburse(b.loanId))
        .to.be.revertedWithCustomError(f.loans, "LoanAgreementsInvalidStatus")
        .withArgs(b.loanId, LoanStatus.Cancelled);
    });
  });

  it("computes simple interest from start to maturity, rounded down", async () => {
    const f = await loadFixture(deployFixture);
    const start = 1_000_000n;
    expect(await f.loans.totalDueOf(500_000n, 800n, start, start + BigInt(90 * DAY))).to.equal(509_863n);
    expect(await f.loans.totalDueOf(1_000n, 10_000n, start, start + BigInt(YEAR))).to.equal(2_000n);
  });

  it("recovers the signer viem-side from the signature recorded in the event", async () => {
    const f = await loadFixture(deployFixture);
    const { loanId, terms } = await signedLoan(f, { collateral: [await confirmedReceivable(f)] });
    const [event] = await f.loans.queryFilter(f.loans.filters.AgreementRecorded(loanId));
    const bs = (event as unknown as { args: { borrowerSignature: Hex } }).args.borrowerSignature;
    const signer = await recoverTypedDataAddress({ ...loanTermsTypedData(f.chainId, await loansAddress(f), terms), signature: bs });
    expect(signer.toLowerCase()).to.equal(f.supplier.address.toLowerCase());
  });
});
