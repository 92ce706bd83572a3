/**
 * What the standalone court verifier's browser tests (court-verifier.e2e, names.e2e) share: a Hardhat
 * node with the contracts deployed, its first four accounts, a data directory holding the deployment
 * for a service run before the browser opens, one recorded loan agreement, and Chromium.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { createWalletClient, http, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { REPO_ROOT, type Deployment } from "../../node-service/src/chain/contracts";
import { deployAll } from "../../scripts/lib/deploy";
import {
  createDeliveredOrder,
  issueConfirmedReceivable,
  signAndSubmitAgreement,
  startHardhatNode,
  type HardhatNode,
  type Net,
  type Wallet,
  DEV_MNEMONIC,
} from "../../scripts/lib/chain-helpers";
import { chromiumLaunch } from "./browser";

/** The standalone verifier, built by `npm run build`. */
export const VERIFIER = path.join(REPO_ROOT, "web/dist/court-verifier.html");

/** The chain, accounts, data directory and browser of one describe block: see useCourtChain. */
export class CourtChain {
  node!: HardhatNode;
  deployment!: Deployment;
  net!: Net;
  /** The node's accounts 0 to 3. */
  operator!: Wallet;
  supplier!: Wallet;
  buyer!: Wallet;
  lender!: Wallet;
  /** Removed by the after hook. */
  dir!: string;
  /** Under dir, holding deployment.json. */
  dataDir!: string;
  browser?: Browser;

  /** The supplier delivers to the buyer (80,000), pledges the confirmed receivable and borrows 50,000 from the lender. */
  async recordAgreement(documentHash: Hex): Promise<bigint> {
    const { net, supplier, buyer, lender } = this;
    const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: 80_000n });
    const { receivableId } = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 80_000n, signedAck: true });
    const { loanId } = await signAndSubmitAgreement(net, {
      borrower: supplier,
      lender,
      principal: 50_000n,
      collateral: [receivableId],
      documentHash,
    });
    return loanId;
  }

  /** Deletes the service's data directory (the verifier works without it). */
  async removeData(): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true });
  }

  async launchBrowser(): Promise<Browser> {
    const launch = await chromiumLaunch();
    this.browser = await chromium.launch({ executablePath: launch.executablePath, args: launch.args });
    return this.browser;
  }
}

/**
 * Registers, in the calling describe block, a before hook that starts the node, deploys the contracts
 * and writes the data directory (failing first when the verifier is not built), and an after hook that
 * closes the browser, stops the node and removes the directory. Call it first in the block, so its
 * before hook runs before the block's own. `prefix` names the temporary directory.
 */
export function useCourtChain(prefix: string): CourtChain {
  const court = new CourtChain();
  before(async function () {
    if (!existsSync(VERIFIER)) throw new Error(`${VERIFIER} is missing: run "npm run build" first`);
    court.node = await startHardhatNode();
    const wallet = (i: number) =>
      createWalletClient({
        chain: hardhat,
        transport: http(court.node.url),
        account: mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }),
        pollingInterval: 50,
      }) as Wallet;
    [court.operator, court.supplier, court.buyer, court.lender] = [0, 1, 2, 3].map(wallet);
    court.deployment = await deployAll({ publicClient: court.node.publicClient, walletClient: court.operator });
    court.net = { publicClient: court.node.publicClient, deployment: court.deployment };
    court.dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    court.dataDir = path.join(court.dir, "data");
    await mkdir(court.dataDir);
    await writeFile(path.join(court.dataDir, "deployment.json"), JSON.stringify(court.deployment));
  });
  after(async function () {
    await court.browser?.close();
    await court.node?.stop();
    if (court.dir) await rm(court.dir, { recursive: true, force: true });
  });
  return court;
}
