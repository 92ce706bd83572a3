/**
 * Checks an evidence bundle against any JSON-RPC node, without the service:
 *   npx ts-node --transpile-only scripts/verify-evidence.ts BUNDLE.json [FILE...] --rpc URL [--deployment deployment.json]
 * Prints one line per check, the verdict and what it proves. --deployment holds the bundle to the
 * chain and contract addresses the consortium published. Exit codes: 0 verified, 1 not verified
 * (altered, incomplete or unproven), 2 usage error (bad arguments, a missing or wrong file),
 * 3 could not check (the node did not answer).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { createPublicClient, http } from "viem";
import { z } from "zod";
import { allAbis, CONTRACT_NAMES } from "../node-service/src/chain/contracts";
import { BUNDLE_FORMAT } from "../node-service/src/evidence/bundle-format";
import { DEFAULT_TIME_TOLERANCE_SECONDS, formatVerdict, verifyBundle, type PublishedDeployment } from "../node-service/src/evidence/verify";

const EXIT = { verified: 0, notVerified: 1, usage: 2, couldNotCheck: 3 } as const;

const USAGE = `usage: verify-evidence BUNDLE.json [FILE...] --rpc URL [--deployment deployment.json] [--tsa-ca CERT.pem]... [--time-tolerance SECONDS]

  BUNDLE.json    the evidence bundle (downloaded from the service's court page or API)
  FILE...        documents to compare with the bundle's (e.g. the signed agreement PDF)
  --rpc URL      any JSON-RPC node of the chain (yours, a provider's, the consortium's)
  --deployment   the deployment file the consortium published (chain, genesis, contract addresses)
  --tsa-ca       a time-stamping authority's (or its root's) certificate the court trusts; repeatable
  --time-tolerance  largest difference accepted between a block's time and its timestamp token (default ${DEFAULT_TIME_TOLERANCE_SECONDS} s)

Exit codes: 0 verified, 1 not verified, 2 usage error, 3 could not check (node unreachable).`;

class UsageError extends Error {}

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const DeploymentFileSchema = z.object({
  chainId: z.number().int().positive(),
  genesisHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  contracts: z.object(
    Object.fromEntries(CONTRACT_NAMES.map((n) => [n, address])) as Record<(typeof CONTRACT_NAMES)[number], typeof address>,
  ),
});

function readFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "there is no such file"
        : code === "EISDIR"
          ? "it is a folder, not a file"
          : code === "EACCES"
            ? "permission denied"
            : (err as Error).message;
    throw new UsageError(`Cannot read the ${what} "${file}": ${why}.`);
  }
}

function readJson(file: string, what: string): unknown {
  const text = readFile(file, what).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(
      `The ${what} "${file}" is not a JSON file, so it cannot be ${what === "bundle" ? "an evidence bundle" : "a deployment file"}.`,
    );
  }
}

function readDeployment(file: string): PublishedDeployment {
  const json = readJson(file, "deployment file");
  if ((json as { format?: unknown })?.format === BUNDLE_FORMAT) {
    throw new UsageError(
      `"${file}" is an evidence bundle, not a deployment file. Give the deployment file the consortium published (deployment.json) after --deployment.`,
    );
  }
  const parsed = DeploymentFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `"${file}" is not a deployment file: ${issue.path.length ? `its ${issue.path.join(".")} is missing or malformed` : "it has the wrong shape"}. ` +
        "Give the deployment file the consortium published (deployment.json, with chainId, genesisHash and the contract addresses).",
    );
  }
  return parsed.data as PublishedDeployment;
}

interface Outcome {
  code: number;
  out: string;
  err: string;
}

async function main(argv: string[]): Promise<Outcome> {
  const positional: string[] = [];
  let rpc: string | undefined;
  let deploymentFile: string | undefined;
  const tsaCaFiles: string[] = [];
  let tolerance: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (flag: string) => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value.`);
      return v;
    };
    if (a === "--rpc") rpc = value("--rpc");
    else if (a.startsWith("--rpc=")) rpc = a.slice(6);
    else if (a === "--deployment") deploymentFile = value("--deployment");
    else if (a.startsWith("--deployment=")) deploymentFile = a.slice(13);
    else if (a === "--tsa-ca") tsaCaFiles.push(value("--tsa-ca"));
    else if (a === "--time-tolerance") {
      const v = value("--time-tolerance");
      if (!/^\d{1,7}$/.test(v)) throw new UsageError(`--time-tolerance takes a whole number of seconds, not "${v}".`);
      tolerance = Number(v);
    } else if (a === "--help" || a === "-h") return { code: EXIT.verified, out: `${USAGE}\n`, err: "" };
    else if (a.startsWith("--")) throw new UsageError(`Unknown option ${a}.`);
    else positional.push(a);
  }
  if (positional.length === 0) throw new UsageError("Give the evidence bundle to check (a .json file).");
  if (!rpc) throw new UsageError("Give a blockchain node to check against with --rpc URL (for example --rpc http://127.0.0.1:8545).");
  if (!/^https?:\/\/|^wss?:\/\//.test(rpc))
    throw new UsageError(`"${rpc}" is not a node address: it should start with http:// or https://.`);

  const [bundleFile, ...files] = positional;
  const bundle = readJson(bundleFile, "bundle");
  if ((bundle as { format?: unknown })?.format !== BUNDLE_FORMAT) {
    throw new UsageError(
      `"${bundleFile}" is not an evidence bundle (it has no "format": "${BUNDLE_FORMAT}"). Download the bundle from the court page or the service's API.`,
    );
  }
  const published = deploymentFile ? readDeployment(deploymentFile) : undefined;
  const documents = files.map((f) => ({ name: path.basename(f), bytes: readFile(f, "document") }));

  const publicClient = createPublicClient({ transport: http(rpc, { retryCount: 1, timeout: 20_000 }) });
  const trustedTsaCertificates = tsaCaFiles.map((f) => readFile(f, "trusted authority certificate"));
  const verdict = await verifyBundle({
    bundle,
    publicClient,
    abis: allAbis(),
    files: documents,
    published,
    trustedTsaCertificates,
    timeToleranceSeconds: tolerance,
  });
  const code = verdict.outcome === "verified" ? EXIT.verified : verdict.outcome === "not-verified" ? EXIT.notVerified : EXIT.couldNotCheck;
  return { code, out: `Evidence bundle ${bundleFile} checked against ${rpc}\n\n${formatVerdict(verdict)}\n`, err: "" };
}

/** Writes all of `text` and waits until the stream has taken it (a pipe takes 64 KiB at a time). */
function writeAll(stream: NodeJS.WriteStream, text: string): Promise<void> {
  if (!text) return Promise.resolve();
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

main(process.argv.slice(2))
  .catch((err: unknown): Outcome => {
    if (err instanceof UsageError) return { code: EXIT.usage, out: "", err: `${err.message}\n\n${USAGE}\n` };
    return { code: EXIT.couldNotCheck, out: "", err: `The check could not run: ${(err as Error).message}\n` };
  })
  .then(async ({ code, out, err }) => {
    await writeAll(process.stdout, out);
    await writeAll(process.stderr, err);
    // Exit only once the output is written: process.exit() on a full pipe would cut it.
    process.exit(code);
  });
