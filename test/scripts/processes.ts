/**
 * Child processes for the script tests: TypeScript entry points run by node itself (not npx), so a
 * signal reaches the process that holds the chain, and every child is killed when a test file ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";

/** One free-port helper for every test: chain-helpers has it. */
export { freePort } from "../../scripts/lib/chain-helpers";

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

/** Runs `node -r ts-node/register/transpile-only <args>` in the repository with extra environment. */
export function spawnTs(args: string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return track(child);
}

/** Runs `node <args>` in `cwd` (compiled JavaScript, not ts-node) with extra environment. */
export function spawnNode(cwd: string, args: string[], env: Record<string, string> = {}): Spawned {
  return track(spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
}

/** `hardhat node` as its own process, on loopback, once it serves JSON-RPC. */
export async function startHardhatNode(port: number): Promise<Spawned> {
  const node = track(
    spawn(process.execPath, [require.resolve("hardhat/internal/cli/cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: REPO_ROOT,
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  await waitForOutput(node, /Started HTTP and WebSocket JSON-RPC server/, 60_000);
  return node;
}

/**
 * Anvil's binary from the npm package that ships it for this platform (@foundry-rs/anvil-linux-amd64 on
 * these machines, installed with @foundry-rs/anvil): nothing is downloaded or installed by hand.
 */
export function anvilBinary(): string {
  const os = process.platform === "win32" ? "win32" : process.platform;
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const dir = path.dirname(require.resolve(`@foundry-rs/anvil-${os}-${arch}/package.json`));
  return path.join(dir, "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

/**
 * Anvil as its own process on loopback with extra arguments (`--base-fee 0`, `--hardfork shanghai`, ...),
 * once it answers JSON-RPC. `--silent`: it would otherwise print every request.
 */
export async function startAnvil(port: number, args: string[] = []): Promise<Spawned> {
  const node = track(
    spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", String(port), "--silent", ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const deadline = Date.now() + 30_000;
  let exitCode: number | null | undefined;
  void node.exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`anvil exited with ${exitCode}:\n${node.output()}`);
    const answer = await fetch(`http://127.0.0.1:${port}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (answer) return node;
    if (Date.now() > deadline) throw new Error(`anvil did not answer on port ${port} within 30 s:\n${node.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `scripts/start.ts` until it prints "ready in"; returns its chain's JSON-RPC URL and its one URL. */
export async function startReady(env: Record<string, string>, args: string[]): Promise<Spawned & { chainUrl: string; url: string }> {
  const run = spawnTs(["scripts/start.ts", ...args], env);
  await waitForOutput(run, /ready in [\d.]+ s/, 150_000);
  const chainUrl = /JSON-RPC on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output())![1];
  const url = /Open (http:\/\/\S+)/.exec(run.output())![1];
  return { ...run, chainUrl, url };
}

export async function waitForOutput(run: Spawned, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void run.exited.then((code) => (exitCode = code));
  while (!pattern.test(run.output())) {
    if (exitCode !== undefined) throw new Error(`process exited with ${exitCode} before printing ${pattern}:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} after ${timeoutMs / 1000} s:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function killAll(): void {
  for (const child of children) child.kill("SIGKILL");
}

function track(child: ChildProcess): Spawned {
  children.add(child);
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => text, exited };
}
