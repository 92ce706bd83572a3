/**
 * Child processes for the script tests: TypeScript entry points run by node itself (not npx), so a
 * signal reaches the process that holds the chain, and every child is killed when a test file ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
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
