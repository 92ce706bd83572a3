/**
 * The embedded chain of `npm start`: a Hardhat network in this process, served over JSON-RPC on a
 * loopback port, made durable by a journal.
 *
 * The Hardhat network (EDR) cannot dump its state, so every accepted state-changing call is journaled
 * (chain-journal.ts) with the timestamp of each block it mined. On start the journal is replayed into
 * a fresh network created with the same genesis date, forcing each recorded block timestamp, and
 * every entry's resulting block hash is compared with the recorded one: the same hashes mean the same
 * state roots, so the chain is exactly the one that was killed, or the start refuses.
 */
import net from "node:net";
import path from "node:path";
import type { EIP1193Provider, EthereumProvider, HardhatRuntimeEnvironment, JsonRpcServer, RequestArguments } from "hardhat/types";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import { createProvider } from "hardhat/internal/core/providers/construction";
import { ChainJournal, type JournalEntry } from "./chain-journal";

/** Calls that change the chain (or its mempool, clock or mining mode): these are journaled. */
const JOURNALED_METHODS = new Set([
  "eth_sendTransaction",
  "eth_sendRawTransaction",
  "evm_increaseTime",
  "evm_setNextBlockTimestamp",
  "evm_mine",
  "evm_setAutomine",
  "evm_snapshot",
  "evm_revert",
  "evm_setBlockGasLimit",
  "hardhat_mine",
  "hardhat_intervalMine",
  "hardhat_setBalance",
  "hardhat_setCode",
  "hardhat_setNonce",
  "hardhat_setStorageAt",
  "hardhat_setCoinbase",
  "hardhat_setPrevRandao",
  "hardhat_setNextBlockBaseFeePerGas",
  "hardhat_setMinGasPrice",
  "hardhat_impersonateAccount",
  "hardhat_stopImpersonatingAccount",
  "hardhat_dropTransaction",
]);

/** Calls whose effect a replay could not reproduce (wall-clock mining, a reset). */
const REFUSED_METHODS = new Set(["evm_setIntervalMining", "hardhat_reset"]);

export class ChainReplayError extends Error {
  constructor(message: string) {
    super(
      `${message}\nThe embedded chain cannot be restored as it was. Start over with \`npm start -- --fresh\` (this discards the embedded chain and the service's data).`,
    );
    this.name = "ChainReplayError";
  }
}

export class PortInUseError extends Error {
  constructor(hostname: string, port: number) {
    super(`port ${port} on ${hostname} is already in use: stop whatever listens there or choose another port with CHAIN_PORT=<port>`);
    this.name = "PortInUseError";
  }
}

export interface EmbeddedChainOptions {
  hre: HardhatRuntimeEnvironment;
  /** The journal lives in `<dataDir>/chain/journal.ndjson`. */
  dataDir: string;
  /** JSON-RPC port; 0 picks a free one. */
  port: number;
  hostname?: string;
  /** Genesis date of a new chain (ignored when a journal exists). Default: now. */
  initialDate?: Date;
  log?: (message: string) => void;
}

export interface EmbeddedChain {
  url: string;
  port: number;
  chainId: number;
  /** The journaling provider the JSON-RPC server uses; in-process clients should use it too. */
  provider: EIP1193Provider;
  journalFile: string;
  /** Entries replayed from an existing journal (0 for a new chain). */
  replayed: number;
  resumed: boolean;
  close(): Promise<void>;
}

interface BlockHead {
  number: number;
  hash: string;
  timestamp: number;
}

export function journalFileOf(dataDir: string): string {
  return path.join(dataDir, "chain", "journal.ndjson");
}

export async function startEmbeddedChain(opts: EmbeddedChainOptions): Promise<EmbeddedChain> {
  const { hre } = opts;
  const hostname = opts.hostname ?? "127.0.0.1";
  const log = opts.log ?? (() => undefined);
  const journalFile = journalFileOf(opts.dataDir);
  const resumed = ChainJournal.exists(journalFile);

  // Checked first: a taken port should not cost a replay.
  await assertPortFree(hostname, opts.port);

  let journal: ChainJournal;
  let inner: EthereumProvider;
  let replayed = 0;
  if (resumed) {
    journal = await ChainJournal.open(journalFile, log);
    const { header } = journal;
    inner = await createNetwork(hre, header.initialDate);
    const createdWall = Date.now() / 1000;
    const genesis = await blockAt(inner, "0x0");
    if (genesis.hash !== header.genesisHash) {
      await journal.close();
      throw new ChainReplayError(
        `the chain journal ${journalFile} starts from genesis ${header.genesisHash}, but this Hardhat configuration creates ${genesis.hash}.`,
      );
    }
    const started = Date.now();
    let lastMined: { entry: JournalEntry; replayWall: number } | undefined;
    for (const entry of journal.entries) {
      try {
        await replayEntry(inner, entry);
      } catch (err) {
        await journal.close();
        throw err;
      }
      if (entry.k > 0) lastMined = { entry, replayWall: Date.now() / 1000 };
      if (entry.i % 2000 === 0) log(`replayed ${entry.i}/${journal.entries.length} journal entries`);
    }
    replayed = journal.entries.length;
    // Forcing recorded timestamps froze the clock at the last block; restore the offset between block
    // time and wall clock that the chain had when it was stopped.
    const drift = lastMined ? lastMined.replayWall - lastMined.entry.w : createdWall - header.wall;
    if (Math.round(drift) > 0) await inner.request({ method: "evm_increaseTime", params: [Math.round(drift)] });
    if (replayed > 0)
      log(`replayed ${replayed} journal entries in ${((Date.now() - started) / 1000).toFixed(1)} s, head block hashes match`);
  } else {
    const initialDate = (opts.initialDate ?? new Date()).toISOString();
    inner = await createNetwork(hre, initialDate);
    const genesis = await blockAt(inner, "0x0");
    const chainId = Number(await inner.request({ method: "eth_chainId" }));
    journal = await ChainJournal.create(journalFile, {
      kind: "genesis",
      v: 1,
      initialDate,
      chainId,
      genesisHash: genesis.hash,
      wall: Date.now() / 1000,
    });
  }

  const provider = journalingProvider(inner, journal);
  const server = (await hre.run(TASK_NODE_CREATE_SERVER, { hostname, port: opts.port, provider })) as JsonRpcServer;
  let address: { address: string; port: number };
  try {
    address = await listen(server, hostname, opts.port);
  } catch (err) {
    await journal.close();
    throw err;
  }
  const chainId = Number(await provider.request({ method: "eth_chainId" }));

  let closed = false;
  return {
    url: `http://${hostname}:${address.port}`,
    port: address.port,
    chainId,
    provider,
    journalFile,
    replayed,
    resumed,
    async close() {
      if (closed) return;
      closed = true;
      await server.close().catch(() => undefined);
      await journal.close();
    },
  };
}

/** A fresh Hardhat network provider (not hre.network.provider) with a fixed genesis date. */
async function createNetwork(hre: HardhatRuntimeEnvironment, initialDate: string): Promise<EthereumProvider> {
  const hardhat = { ...hre.config.networks.hardhat, initialDate, loggingEnabled: false };
  const config = { ...hre.config, networks: { ...hre.config.networks, hardhat } };
  return createProvider(config, "hardhat", hre.artifacts);
}

async function blockAt(provider: EIP1193Provider, tag: string): Promise<BlockHead> {
  const block = (await provider.request({ method: "eth_getBlockByNumber", params: [tag, false] })) as {
    number: string;
    hash: string;
    timestamp: string;
  };
  return { number: Number(block.number), hash: block.hash, timestamp: Number(block.timestamp) };
}

async function replayEntry(provider: EIP1193Provider, entry: JournalEntry): Promise<void> {
  if (entry.k > 0 && entry.ts !== undefined) {
    await provider.request({ method: "evm_setNextBlockTimestamp", params: [entry.ts] });
  }
  let failure: unknown;
  try {
    await provider.request({ method: entry.m, params: entry.p });
  } catch (err) {
    failure = err;
  }
  const head = await blockAt(provider, "latest");
  if (head.number !== entry.n || head.hash !== entry.h) {
    throw new ChainReplayError(
      `replaying journal entry ${entry.i} (${entry.m}) gave block ${head.number} ${head.hash}, but the journal recorded block ${entry.n} ${entry.h}.`,
    );
  }
  if (failure !== undefined && entry.e !== true) {
    throw new ChainReplayError(`replaying journal entry ${entry.i} (${entry.m}) failed: ${(failure as Error).message}`);
  }
}

/**
 * Wraps the network provider: journaled methods run one at a time and are written to the journal
 * (fsynced) before the answer goes back; refused methods throw; everything else passes through.
 */
function journalingProvider(inner: EthereumProvider, journal: ChainJournal): EIP1193Provider {
  let tail: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };

  // A change the chain made but the journal could not take (a full disk): the chain in memory is ahead
  // of its journal. Until that entry is written, every call (reads too, so no receipt of it is seen)
  // first retries writing it, and fails while it cannot: nothing is acknowledged that a restart would
  // lose, and once space is back the chain carries on without a restart.
  let unjournaled: Omit<JournalEntry, "i"> | undefined;
  const catchUp = async () => {
    if (!unjournaled) return;
    try {
      await journal.append(unjournaled);
      unjournaled = undefined;
    } catch (err) {
      throw new Error(`the chain journal could not be written (${(err as Error).message}); the chain accepts calls again once it can be`);
    }
  };

  const record = (method: string, params: unknown[]) =>
    serialize(async () => {
      await catchUp();
      const before = await blockAt(inner, "latest");
      let result: unknown;
      let failure: unknown;
      try {
        result = await inner.request({ method, params });
      } catch (err) {
        failure = err;
      }
      const after = await blockAt(inner, "latest");
      // An error that left the chain untouched was not accepted: nothing to journal.
      if (failure !== undefined && after.hash === before.hash) throw failure;
      const mined = Math.max(0, after.number - before.number);
      let ts: number | undefined;
      if (mined === 1) ts = after.timestamp;
      else if (mined > 1) ts = (await blockAt(inner, `0x${(before.number + 1).toString(16)}`)).timestamp;
      const entry = {
        m: method,
        p: params,
        ...(ts !== undefined ? { ts } : {}),
        k: mined,
        n: after.number,
        h: after.hash,
        w: Date.now() / 1000,
        ...(failure !== undefined ? { e: true as const } : {}),
      };
      try {
        await journal.append(entry);
      } catch (err) {
        unjournaled = entry;
        throw err;
      }
      if (failure !== undefined) throw failure;
      return result;
    });

  const request = async (args: RequestArguments): Promise<unknown> => {
    const params = (args.params ?? []) as unknown[];
    if (REFUSED_METHODS.has(args.method)) {
      throw new Error(`${args.method} is not supported by the embedded chain: its journal could not replay it`);
    }
    if (JOURNALED_METHODS.has(args.method)) return record(args.method, params);
    if (unjournaled) await serialize(catchUp);
    return inner.request({ method: args.method, params });
  };

  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "request") return request;
      // The legacy entry points must not bypass the journal.
      if (prop === "send") return (method: string, params?: unknown[]) => request({ method, params });
      if (prop === "sendAsync") return undefined;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as EIP1193Provider;
}

async function assertPortFree(hostname: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" || err.code === "EACCES" ? new PortInUseError(hostname, port) : err);
    });
    probe.listen(port, hostname, () => probe.close(() => resolve()));
  });
}

/** JsonRpcServer.listen never rejects; listen for the bind error on its HTTP server ourselves. */
async function listen(server: JsonRpcServer, hostname: string, port: number): Promise<{ address: string; port: number }> {
  const http = (server as unknown as { _httpServer?: net.Server })._httpServer;
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? new PortInUseError(hostname, port) : err);
    http?.once("error", onError);
    server.listen().then((address) => {
      http?.off("error", onError);
      resolve(address);
    }, reject);
  });
}
