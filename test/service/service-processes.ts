/**
 * Service processes of their own for the several-processes tests (pg-failover, pg-processes): a child
 * `node-service/src/server.ts` per process, configured by environment, on a free loopback port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<void>;
}

export function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "node-service/src/server.ts"], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /API listening on (\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, exited });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output}`));
    });
  });
}

export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
