/**
 * The embedded chain's journal, in process: what is journaled, what is not, and that replays reach
 * the recorded block hashes for the awkward cases (reverted transactions, mempool batches, snapshots,
 * multi-block mining, impersonation, a torn last line), and a full disk.
 */
import hre from "hardhat";
import { expect } from "chai";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EIP1193Provider } from "hardhat/types";
import { ChainJournal } from "../../scripts/lib/chain-journal";
import { journalFileOf, startEmbeddedChain, type EmbeddedChain } from "../../scripts/lib/embedded-chain";
import { isMounted, mountSmallDisk } from "../service/small-disk";

const ALICE = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const BOB = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
// Runtime code that always reverts: PUSH1 0 PUSH1 0 REVERT.
const REVERTER_CODE = "0x60006000fd";
const REVERTER = "0x000000000000000000000000000000000000dead";

async function head(provider: EIP1193Provider): Promise<{ number: string; hash: string; stateRoot: string; timestamp: string }> {
  return (await provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as never;
}

describe("embedded chain journal", function () {
  this.timeout(120_000);
  let dataDir: string;
  let chain: EmbeddedChain | undefined;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "scf-chain-"));
  });

  afterEach(async () => {
    await chain?.close();
    chain = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const open = async () => {
    await chain?.close();
    chain = await startEmbeddedChain({ hre, dataDir, port: 0 });
    return chain.provider;
  };

  it("replays mempool batches, a mined reverted transaction, snapshots, multi-block mining and impersonation to the same head", async () => {
    let p = await open();
    await p.request({ method: "hardhat_setCode", params: [REVERTER, REVERTER_CODE] });
    await p.request({ method: "evm_setAutomine", params: [false] });
    for (let i = 0; i < 5; i++)
      await p.request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: BOB, value: "0x1", gas: "0x5208" }] });
    await p.request({ method: "evm_increaseTime", params: [3600] });
    await p.request({ method: "evm_mine", params: [] });
    await p.request({ method: "evm_setAutomine", params: [true] });
    // Reverts, but is mined: the chain changed, so the journal keeps it.
    let reverted = false;
    await p
      .request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: REVERTER, gas: "0x10000" }] })
      .catch(() => (reverted = true));
    expect(reverted).to.equal(true);
    const snapshot = await p.request({ method: "evm_snapshot", params: [] });
    await p.request({ method: "eth_sendTransaction", params: [{ from: BOB, to: ALICE, value: "0x2" }] });
    await p.request({ method: "evm_revert", params: [snapshot] });
    await p.request({ method: "hardhat_mine", params: ["0x5", "0x3c"] });
    await p.request({ method: "hardhat_impersonateAccount", params: [REVERTER] });
    await p.request({ method: "hardhat_setBalance", params: [REVERTER, "0xde0b6b3a7640000"] });
    await p.request({ method: "eth_sendTransaction", params: [{ from: REVERTER, to: BOB, value: "0x3" }] });
    const before = await head(p);
    const balance = await p.request({ method: "eth_getBalance", params: [BOB, "latest"] });

    p = await open();
    expect(chain!.resumed).to.equal(true);
    const reread = await ChainJournal.open(journalFileOf(dataDir));
    expect(chain!.replayed).to.equal(reread.entries.length);
    await reread.close();
    const after = await head(p);
    expect(after).to.deep.include({ number: before.number, hash: before.hash, stateRoot: before.stateRoot, timestamp: before.timestamp });
    expect(await p.request({ method: "eth_getBalance", params: [BOB, "latest"] })).to.equal(balance);
    const mined = (await p.request({ method: "eth_getBlockByNumber", params: ["0x1", false] })) as { transactions: string[] };
    expect(mined.transactions).to.have.length(5);
  });

  it("does not journal calls that fail without changing the chain, nor reads", async () => {
    const p = await open();
    await p.request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: BOB, value: "0x1" }] });
    const journal = () => readFileSync(journalFileOf(dataDir), "utf8").trimEnd().split("\n").length;
    const lines = journal();
    let failed = false;
    // An account the node does not hold: refused before anything happens.
    await p.request({ method: "eth_sendTransaction", params: [{ from: REVERTER, to: BOB, value: "0x1" }] }).catch(() => (failed = true));
    expect(failed).to.equal(true);
    await p.request({ method: "eth_getBalance", params: [BOB, "latest"] });
    await p.request({ method: "eth_call", params: [{ to: BOB, data: "0x" }, "latest"] });
    expect(journal()).to.equal(lines);
  });

  it("refuses interval mining and resets, which a replay could not reproduce", async () => {
    const p = await open();
    for (const method of ["evm_setIntervalMining", "hardhat_reset"]) {
      let message = "";
      await p.request({ method, params: method === "hardhat_reset" ? [] : [1000] }).catch((e: Error) => (message = e.message));
      expect(message).to.include(`${method} is not supported by the embedded chain`);
    }
  });

  it("cuts off a torn last line left by a crash mid-write and resumes from the entry before it", async () => {
    let p = await open();
    await p.request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: BOB, value: "0x1" }] });
    const before = await head(p);
    await chain!.close();
    appendFileSync(journalFileOf(dataDir), '{"i":2,"m":"eth_sendTransaction","p":[{"from":"0xf39f');
    p = await open();
    expect(chain!.replayed).to.equal(1);
    expect((await head(p)).hash).to.equal(before.hash);
    expect(readFileSync(journalFileOf(dataDir), "utf8").endsWith("\n")).to.equal(true);
    // And the journal keeps working after the cut.
    await p.request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: BOB, value: "0x1" }] });
    const latest = await head(p);
    p = await open();
    expect((await head(p)).hash).to.equal(latest.hash);
  });

  it("refuses further changes once one could not be journaled, and a restart comes back without it", async () => {
    const p = await open();
    await p.request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: BOB, value: "0x1" }] });
    const journaled = await head(p);
    await chain!.close(); // closes the journal under the provider: the next append fails
    const errors: string[] = [];
    for (let i = 0; i < 2; i++) {
      await p
        .request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: BOB, value: "0x1" }] })
        .catch((e: Error) => errors.push(e.message));
    }
    expect(errors[0]).to.match(/journal .* is closed/);
    expect(errors[1]).to.include("the chain journal could not be written");
    const restored = await open();
    expect((await head(restored)).hash).to.equal(journaled.hash);
  });

  it("on a full disk (a real tmpfs) answers nothing it could not journal, then carries on without a restart once space is back", async function () {
    const disk = mountSmallDisk(4096);
    if (!isMounted(disk)) {
      console.log(`      skipped: ${disk.skipped}`);
      this.skip();
    }
    try {
      chain = await startEmbeddedChain({ hre, dataDir: disk.dir, port: 0 });
      const p = chain.provider;
      await p.request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: BOB, value: "0x1" }] });
      const journaled = await head(p);
      disk.fill();
      let sendError = "";
      // 10 kB of calldata: its journal record needs new pages (tmpfs fills a file's last page first).
      const big = { from: ALICE, to: BOB, value: "0x2", data: `0x${"ab".repeat(10_000)}`, gas: "0x100000" };
      await p.request({ method: "eth_sendTransaction", params: [big] }).catch((e: Error) => (sendError = e.message));
      expect(sendError).to.match(/ENOSPC|no space/i);
      // The transaction was mined in memory but is not durable: no read may show it.
      let readError = "";
      await p.request({ method: "eth_getBlockByNumber", params: ["latest", false] }).catch((e: Error) => (readError = e.message));
      expect(readError).to.include("the chain journal could not be written");
      disk.free();
      const after = await head(p);
      expect(Number(after.number)).to.equal(Number(journaled.number) + 1);
      await p.request({ method: "eth_sendTransaction", params: [{ from: ALICE, to: BOB, value: "0x3" }] });
      const latest = await head(p);
      await chain.close();
      chain = await startEmbeddedChain({ hre, dataDir: disk.dir, port: 0 });
      expect((await head(chain.provider)).hash).to.equal(latest.hash);
      await chain.close();
      chain = undefined;
    } finally {
      disk.unmount();
    }
  });
});
