/**
 * The consent watcher's clock: an answer is judged at the time of the newest block known, the
 * watcher's head or the index's tip when the index is ahead of the watcher (the indexer polled after
 * the watcher did). Real chain (the in-process Hardhat network); the index view is the part under test's input.
 */
import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Address, PublicClient } from "viem";
import pino from "pino";
import { createConsentWatcher } from "../../node-service/src/auth/consent-watch";
import { SCOPE } from "../../node-service/src/chain/eip712";
import type { Deployment } from "../../node-service/src/chain/contracts";
import type { ConsentEntity } from "../../node-service/src/domain/entities";

const DAY = 86_400;
const borrower = "0x00000000000000000000000000000000000000b1" as Address;
const lender = "0x00000000000000000000000000000000000000a1" as Address;

describe("consent watcher: the clock of its answers", function () {
  // No contract here: the watcher reads the logs of these addresses (none) above the index's tip.
  const deployment = {
    contracts: {
      ConsentRegistry: "0x00000000000000000000000000000000000c0c01",
      ParticipantRegistry: "0x00000000000000000000000000000000000c0c02",
    },
  } as unknown as Deployment;

  it("refuses a consent whose expiry the index's tip has passed, although the watcher has not seen that block yet", async function () {
    const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
    const watchedHead = await publicClient.getBlock({ blockTag: "latest" });
    const grantedAt = Number(watchedHead.timestamp);
    const consent: ConsentEntity = {
      borrower,
      lender,
      scopes: SCOPE.metrics,
      grantedAt,
      expiresAt: grantedAt + 2 * DAY,
      purpose: "0x",
      history: [],
      events: [],
    };
    // The index: at the watcher's head first, then one block further whose time is past the expiry.
    const index = { block: Number(watchedHead.number), time: grantedAt };
    const watcher = createConsentWatcher({
      publicClient,
      deployment,
      pollIntervalMs: 60_000,
      staleAfterMs: 60_000,
      index: {
        indexedBlock: () => index.block,
        indexedBlockTime: () => index.time,
        consent: (b, l) => (b === borrower && l === lender ? consent : undefined),
      },
      logger: pino({ level: "silent" }),
    });
    await watcher.poll();
    const inForce = watcher.current(borrower, lender);
    expect(inForce?.scopes, "in force at the watcher's head").to.equal(SCOPE.metrics);
    expect(watcher.seenBlock()).to.equal(index.block);

    await time.increase(3 * DAY);
    await hre.network.provider.send("evm_mine", []);
    const next = await publicClient.getBlock({ blockTag: "latest" });
    // The indexer fetched that block; the watcher has not polled since.
    index.block = Number(next.number);
    index.time = Number(next.timestamp);
    const after = watcher.current(borrower, lender);
    expect(after?.at, "judged at the index tip's block time").to.be.at.least(index.time);
    expect(after?.scopes, "expired at the index's tip").to.equal(0);
    expect(watcher.seenBlock(), "the block whose time the answer used").to.equal(index.block);

    // An index whose tip time is unknown (just loaded) does not move the clock or the seen block.
    index.time = 0;
    expect(watcher.seenBlock()).to.equal(Number(watchedHead.number));
    await watcher.stop();
  });

  it("gives the head its last poll read as a clock only while that read is at most the given age, and none before a poll", async function () {
    const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
    const tip = await publicClient.getBlock({ blockTag: "latest" });
    const watcher = createConsentWatcher({
      publicClient,
      deployment,
      pollIntervalMs: 60_000,
      index: { indexedBlock: () => Number(tip.number), consent: () => undefined },
      logger: pino({ level: "silent" }),
    });
    expect(watcher.head(60_000), "no poll yet").to.equal(null);
    await time.increase(DAY); // mines a block a day later
    const head = await publicClient.getBlock({ blockTag: "latest" });
    await watcher.poll();
    expect(watcher.head(60_000)).to.deep.equal({ number: Number(head.number), time: Number(head.timestamp) });
    await new Promise((r) => setTimeout(r, 30));
    expect(watcher.head(20), "read more than 20 ms ago").to.equal(null);
    // A block the watcher has not polled for is not its clock: the caller reads the node then.
    await time.increase(DAY);
    expect(watcher.head(60_000)?.time).to.equal(Number(head.timestamp));
    await watcher.poll();
    expect(watcher.head(60_000)?.time).to.equal(Number(head.timestamp) + DAY);
    await watcher.stop();
  });
});
