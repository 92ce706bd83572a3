/**
 * indexer.ts commitInterval: when the next commit of the index is due, so that writing takes at most a
 * share of the time. bench:reader measures what it changes: how far a reader of the committed index
 * lags the head after a large commit.
 */
import { expect } from "chai";
import { commitInterval } from "../../node-service/src/indexer/indexer";

describe("the indexer's commit interval (writing at most a share of the time)", () => {
  const share = 0.02; // the head's default: the interval is 49 times the expected write

  it("expects a store that rewrites the whole index to cost what its last write cost, whatever is pending", () => {
    expect(commitInterval({ minMs: 2000, share, lastWrite: { ms: 700, events: 10_000 } })).to.equal(34_300);
    expect(commitInterval({ minMs: 2000, share, lastWrite: { ms: 20, events: 1 } })).to.equal(2000);
  });

  it("expects a store whose commit writes what changed to cost per event what the last one did: a catch-up commit does not hold back the next small one", () => {
    // 700 ms for 10,000 events: one pending event is expected to take 0.07 ms, so the minimum applies.
    expect(commitInterval({ minMs: 2000, share, lastWrite: { ms: 700, events: 10_000 }, pendingEvents: 1 })).to.equal(2000);
    // 5,000 pending events are expected to take 350 ms: 49 times that.
    expect(commitInterval({ minMs: 2000, share, lastWrite: { ms: 700, events: 10_000 }, pendingEvents: 5_000 })).to.be.closeTo(
      17_150,
      1e-6,
    );
    // Nothing pending costs what a small commit costs; a last write that carried no event is taken as it is.
    expect(commitInterval({ minMs: 0, share, lastWrite: { ms: 100, events: 100 }, pendingEvents: 0 })).to.be.closeTo(4900, 1e-9);
    expect(commitInterval({ minMs: 0, share, lastWrite: { ms: 10, events: 0 }, pendingEvents: 3 })).to.be.closeTo(490, 1e-9);
  });

  it("takes a small commit's cost as fixed, not per event: a few events' commit does not hold back the next few dozen", () => {
    // At the head a commit carries the events of a block or two: 16 ms for 3 events is the commit's
    // fixed cost. Taken per event (5.3 ms), 40 pending events would wait 49 x 213 ms = 10.5 s.
    expect(commitInterval({ minMs: 2000, share, lastWrite: { ms: 16, events: 3 }, pendingEvents: 40 })).to.equal(2000);
    // A slow machine's 200 ms for 3 events: the next small commit waits 49 x 200 ms, not 49 x 2.7 s.
    expect(commitInterval({ minMs: 2000, share, lastWrite: { ms: 200, events: 3 }, pendingEvents: 40 })).to.be.closeTo(9800, 1e-6);
    // Past the fixed part the cost grows with the events pending: 100 events at 16 ms, 1,000 at 160 ms.
    expect(commitInterval({ minMs: 0, share, lastWrite: { ms: 16, events: 3 }, pendingEvents: 1000 })).to.be.closeTo(7840, 1e-6);
    expect(commitInterval({ minMs: 0, share, lastWrite: { ms: 16, events: 3 }, pendingEvents: 1000 })).to.be.above(
      commitInterval({ minMs: 0, share, lastWrite: { ms: 16, events: 3 }, pendingEvents: 100 }),
    );
  });

  it("never goes below the minimum, and a share of 1 means no limit", () => {
    expect(commitInterval({ minMs: 2000, share: 1, lastWrite: { ms: 60_000, events: 1 } })).to.equal(2000);
  });
});
