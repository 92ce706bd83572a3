import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, as, deployFixture, h, nextTime, now } from "./fixture";
import { ALL_SCOPES, ROLE, SCOPE } from "../../node-service/src/chain/eip712";

describe("ConsentRegistry", () => {
  const scopes = SCOPE.orderHistory | SCOPE.receivables | SCOPE.metrics;

  it("records a borrower's grant of scopes to a lender until an expiry, for a purpose", async () => {
    const f = await loadFixture(deployFixture);
    const expires = (await now()) + 30 * DAY;
    const at = await nextTime();
    await expect(as(f.consent, f.supplier).grant(f.lender.address, scopes, expires, h("application 1")))
      .to.emit(f.consent, "ConsentGranted")
      .withArgs(f.supplier.address, f.lender.address, scopes, expires, h("application 1"), at);
    const c = await f.consent.consentOf(f.supplier.address, f.lender.address);
    expect([c.scopes, c.grantedAt, c.expiresAt, c.revokedAt]).to.deep.equal([BigInt(scopes), BigInt(at), BigInt(expires), 0n]);
    expect(await f.consent.scopesAt(f.supplier.address, f.lender.address, at)).to.equal(scopes);
    expect(await f.consent.scopesAt(f.supplier.address, f.lender2.address, at)).to.equal(0);
  });

  it("says what was in force at a given time: nothing before the grant, nothing from the expiry on", async () => {
    const f = await loadFixture(deployFixture);
    const expires = (await now()) + 30 * DAY;
    const at = await nextTime();
    await as(f.consent, f.supplier).grant(f.lender.address, scopes, expires, h("p"));
    const read = (t: number) => f.consent.scopesAt(f.supplier.address, f.lender.address, t);
    expect(await read(at - 1)).to.equal(0);
    expect(await read(expires - 1)).to.equal(scopes);
    expect(await read(expires)).to.equal(0);
    await time.increaseTo(expires);
    await expect(as(f.consent, f.supplier).revoke(f.lender.address))
      .to.be.revertedWithCustomError(f.consent, "ConsentRegistryNotInForce")
      .withArgs(f.supplier.address, f.lender.address);
  });

  it("revokes a grant in force: scopes stay readable before the revocation and vanish from it on", async () => {
    const f = await loadFixture(deployFixture);
    const expires = (await now()) + 30 * DAY;
    const grantedAt = await nextTime();
    await as(f.consent, f.supplier).grant(f.lender.address, ALL_SCOPES, expires, h("p"));
    await time.increase(DAY);
    const revokedAt = await nextTime();
    await expect(as(f.consent, f.supplier).revoke(f.lender.address))
      .to.emit(f.consent, "ConsentRevoked")
      .withArgs(f.supplier.address, f.lender.address, revokedAt);
    const read = (t: number) => f.consent.scopesAt(f.supplier.address, f.lender.address, t);
    expect(await read(grantedAt)).to.equal(ALL_SCOPES);
    expect(await read(revokedAt - 1)).to.equal(ALL_SCOPES);
    expect(await read(revokedAt)).to.equal(0);
    expect((await f.consent.consentOf(f.supplier.address, f.lender.address)).revokedAt).to.equal(BigInt(revokedAt));
    await expect(as(f.consent, f.supplier).revoke(f.lender.address))
      .to.be.revertedWithCustomError(f.consent, "ConsentRegistryNotInForce")
      .withArgs(f.supplier.address, f.lender.address);
  });

  it("replaces the previous grant with a new one", async () => {
    const f = await loadFixture(deployFixture);
    const expires = (await now()) + 30 * DAY;
    await as(f.consent, f.supplier).grant(f.lender.address, ALL_SCOPES, expires, h("p"));
    await as(f.consent, f.supplier).revoke(f.lender.address);
    const at = await nextTime();
    await as(f.consent, f.supplier).grant(f.lender.address, SCOPE.identity, expires + DAY, h("p2"));
    expect(await f.consent.scopesAt(f.supplier.address, f.lender.address, at)).to.equal(SCOPE.identity);
    expect((await f.consent.consentOf(f.supplier.address, f.lender.address)).revokedAt).to.equal(0n);
  });

  it("refuses a revocation when nothing was granted", async () => {
    const f = await loadFixture(deployFixture);
    await expect(as(f.consent, f.supplier).revoke(f.lender.address))
      .to.be.revertedWithCustomError(f.consent, "ConsentRegistryNotInForce")
      .withArgs(f.supplier.address, f.lender.address);
  });

  it("refuses a grant by a non-participant, to an account without the lender role, of no or unknown scopes, or already expired", async () => {
    const f = await loadFixture(deployFixture);
    const expires = (await now()) + DAY;
    await expect(as(f.consent, f.outsider).grant(f.lender.address, scopes, expires, h("p")))
      .to.be.revertedWithCustomError(f.consent, "ConsentRegistryNotActiveParticipant")
      .withArgs(f.outsider.address, 0);
    await expect(as(f.consent, f.supplier).grant(f.buyer.address, scopes, expires, h("p")))
      .to.be.revertedWithCustomError(f.consent, "ConsentRegistryNotActiveParticipant")
      .withArgs(f.buyer.address, ROLE.LENDER);
    await expect(as(f.consent, f.supplier).grant(f.lender.address, 0, expires, h("p")))
      .to.be.revertedWithCustomError(f.consent, "ConsentRegistryInvalidScopes")
      .withArgs(0);
    await expect(as(f.consent, f.supplier).grant(f.lender.address, 0x800, expires, h("p")))
      .to.be.revertedWithCustomError(f.consent, "ConsentRegistryInvalidScopes")
      .withArgs(0x800);
    const past = await now();
    await expect(as(f.consent, f.supplier).grant(f.lender.address, scopes, past, h("p")))
      .to.be.revertedWithCustomError(f.consent, "ConsentRegistryExpiryInPast")
      .withArgs(past);
  });

  it("defines eleven scopes, all within ALL_SCOPES", async () => {
    const f = await loadFixture(deployFixture);
    const bits = Object.values(SCOPE);
    expect(bits).to.have.length(11);
    expect(bits.reduce((a, b) => a | b, 0)).to.equal(ALL_SCOPES);
    expect(await f.consent.ALL_SCOPES()).to.equal(ALL_SCOPES);
  });
});
