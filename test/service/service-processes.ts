/**
 * Service processes of their own for the several-processes tests (pg-failover, pg-processes): a child
 * `node-service/src/server.ts` per process, configured by environment, on a free loopback port; and a
 * reader of a session's event stream.
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

/** The open `GET /api/events` stream of `token` on `base`, collecting each application update with the time it arrived. */
export function openEvents(base: string, token: string) {
  const controller = new AbortController();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const events: { at: number; app: any }[] = [];
  let opened: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (opened = resolve));
  const done = (async () => {
    const res = await fetch(`${base}/api/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    if (res.status !== 200) throw new Error(`GET /api/events answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(": connected")) opened();
          const data = frame.split("\n").find((l) => l.startsWith("data: "));
          if (frame.includes("event: application") && data) events.push({ at: Date.now(), app: JSON.parse(data.slice(6)) });
        }
      }
    } catch (err) {
      if ((err as Error).name !== "AbortError") throw err;
    }
  })();
  return { events, connected, close: () => (controller.abort(), done.catch(() => undefined)) };
}
