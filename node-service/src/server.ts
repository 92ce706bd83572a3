/**
 * Composition root: configuration -> deployment record -> viem client -> indexer -> stores -> express
 * app -> listening server. `startService` is what `npm start`, the tests and the benchmarks call;
 * `ts-node node-service/src/server.ts` runs it against an external node from the environment.
 */
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { pino, type Logger } from "pino";
import { createPublicClient, http, type PublicClient, type Transport } from "viem";
import { z } from "zod";
import { CONTRACT_NAMES, type Deployment } from "./chain/contracts";
import { ConfigError, loadConfig, resolvePaths, type Config } from "./config";
import { createIndexer } from "./indexer/indexer";
import { createChainAuthority } from "./auth/chain-authority";
import { openSessionStore } from "./auth/sessions";
import { createSiweVerifier } from "./auth/siwe";
import { openAccessLog } from "./api/access-log";
import { createApp, type RouteModule } from "./api/app";

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/);
const DeploymentSchema = z.object({
  chainId: z.number().int().positive(),
  genesisHash: hex,
  startBlock: z.number().int().min(0),
  deployer: hex,
  gracePeriod: z.number().int().min(0),
  contracts: z.object(Object.fromEntries(CONTRACT_NAMES.map((n) => [n, hex.length(42)]))),
});

export interface StartServiceOptions {
  /** Talk to the chain through this transport instead of http(RPC_URL) (e.g. an in-process provider). */
  transport?: Transport;
  logger?: Logger;
  /** Extra route modules (applications, documents, ...) mounted before the 404 handler. */
  modules?: RouteModule[];
}

export interface RunningService {
  url: string;
  app: ReturnType<typeof createApp>;
  indexer: Awaited<ReturnType<typeof createIndexer>>;
  deployment: Deployment;
  publicClient: PublicClient;
  close(): Promise<void>;
}

export async function readDeployment(file: string, chainId: number): Promise<Deployment> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new ConfigError([`DEPLOYMENT_FILE: ${file} cannot be read; deploy first (npm run deploy -- --rpc URL)`]);
  }
  const parsed = DeploymentSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `DEPLOYMENT_FILE ${file}: ${i.path.join(".")}: ${i.message}`));
  if (parsed.data.chainId !== chainId) throw new ConfigError([`DEPLOYMENT_FILE: made for chain ${parsed.data.chainId}, but CHAIN_ID is ${chainId}`]);
  return parsed.data as Deployment;
}

export async function startService(config: Config, options: StartServiceOptions = {}): Promise<RunningService> {
  const { dataDir, deploymentFile } = resolvePaths(config);
  const logger = options.logger ?? pino({ level: config.LOG_LEVEL });
  const deployment = await readDeployment(deploymentFile, config.CHAIN_ID);
  // cacheTime 0: viem would otherwise reuse a block number for 4 s, and the indexer and /healthz want the head.
  const publicClient = createPublicClient({
    transport: options.transport ?? http(config.RPC_URL),
    pollingInterval: config.POLL_INTERVAL_MS,
    cacheTime: 0,
  }) as PublicClient;
  const nodeChainId = await publicClient.getChainId().catch((err: unknown) => {
    throw new ConfigError([`RPC_URL: ${config.RPC_URL} does not answer (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`]);
  });
  if (nodeChainId !== config.CHAIN_ID) throw new ConfigError([`CHAIN_ID: the node at RPC_URL is chain ${nodeChainId}, not ${config.CHAIN_ID}`]);

  const indexer = await createIndexer({
    publicClient,
    deployment,
    dataDir,
    confirmations: config.CONFIRMATIONS,
    pollIntervalMs: config.POLL_INTERVAL_MS,
    logger: logger.child({ module: "indexer" }),
  });
  const sessions = await openSessionStore({ dataDir, secret: config.SESSION_SECRET });
  const accessLog = await openAccessLog({ dataDir });
  // Authorization reads come in pairs (scopesAt + consentOf, participant + hasRole): over HTTP, send
  // each pair as one JSON-RPC batch.
  const authorityClient = options.transport
    ? publicClient
    : (createPublicClient({ transport: http(config.RPC_URL, { batch: true }), cacheTime: 0 }) as PublicClient);
  const authority = createChainAuthority({ publicClient: authorityClient, deployment, roleCacheMs: config.ROLE_CACHE_MS });
  const siwe = createSiweVerifier({ publicClient, chainId: config.CHAIN_ID });

  let domains: string[] = [];
  const app = createApp(
    { config, deployment, publicClient, indexer, logger, sessions, accessLog, authority, siwe, siweDomains: () => domains },
    { modules: options.modules },
  );

  await indexer.start();
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.PORT, config.HOST, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;
  domains = config.SIWE_DOMAIN ? config.SIWE_DOMAIN.split(",").map((d) => d.trim()).filter(Boolean) : [`${host}:${port}`, `localhost:${port}`];
  const url = `http://${host}:${port}`;
  logger.info({ url, chainId: deployment.chainId }, "service listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    indexer,
    deployment,
    publicClient,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await indexer.stop();
        await accessLog.close();
      })();
      return closing;
    },
  };
}

if (require.main === module) {
  (async () => {
    let config: Config;
    try {
      config = loadConfig();
    } catch (err) {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    }
    try {
      const service = await startService(config);
      console.log(`API listening on ${service.url}`);
      const stop = () => {
        service.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    } catch (err) {
      console.error(err instanceof ConfigError ? err.message : err);
      process.exit(1);
    }
  })();
}
