/**
 * The processes a benchmark starts (a `hardhat node`, service processes), each writing to a log file
 * of its own, stopped together at the end; and a SIWE sign-in against a service.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { getAddress, type Address } from "viem";
import { createSiweMessage } from "viem/siwe";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";

export class BenchChildren {
  readonly all: ChildProcess[] = [];

  /**
   * Starts a child with its output going to a log file (a pipe to this busy process would block the
   * child's synchronous stdout writes and show up as latency), and waits for `ready` to appear in it.
   */
  async start(
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    ready: RegExp,
    logFile: string,
  ): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
    const fd = openSync(logFile, "a");
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    this.all.push(child);
    for (;;) {
      const match = readFileSync(logFile, "utf8").match(ready);
      if (match) return { child, match };
      if (child.exitCode !== null)
        throw new Error(`${cmd} ${args.join(" ")} exited with ${child.exitCode}:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stop(): void {
    for (const c of this.all) if (c.exitCode === null && c.pid) c.kill("SIGTERM");
  }
}

/** A session token for `wallet`'s account, signed in with SIWE at the service at `base`. */
export async function siweSignIn(
  base: string,
  chainId: number,
  wallet: { account?: { address: Address }; signMessage(args: { account: Address; message: string }): Promise<string> },
  address: Address = wallet.account!.address,
): Promise<string> {
  const nonce = ((await (await fetch(`${base}/api/auth/nonce`)).json()) as { nonce: string }).nonce;
  const message = createSiweMessage({
    domain: new URL(base).host,
    address: getAddress(address),
    uri: base,
    version: "1",
    chainId,
    nonce,
    issuedAt: new Date(),
  });
  const signature = await wallet.signMessage({ account: address, message });
  const res = await fetch(`${base}/api/auth/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message, signature }),
  });
  if (!res.ok) throw new Error(`sign-in failed: ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}
