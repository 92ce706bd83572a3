/**
 * The standalone court verifier: one HTML file (built by `npm run build` into web/dist/court-verifier.html,
 * downloadable from the service) that needs no service. The court gives it the deployment file the
 * consortium published and the address of any JSON-RPC node of the chain; it checks that the node is
 * that chain (chain id and genesis block), then gives the same verdicts as the court room.
 */
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { createPublicClient, http, type Address } from "viem";
import { z } from "zod";
import { CONTRACT_NAMES, type ContractName } from "../../../node-service/src/chain/contract-names";
import { isUnreachable, type PublishedDeployment } from "../../../node-service/src/evidence/verify";
import { Card, ErrorBox } from "../components/ui";
import { CourtChecker } from "./CourtChecker";
import type { CourtChain } from "./check";
import "../styles.css";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a contract address");
const DeploymentFile = z.object({
  chainId: z.number().int().positive(),
  genesisHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a block hash"),
  startBlock: z.number().int().nonnegative().optional(),
  contracts: z.object(Object.fromEntries(CONTRACT_NAMES.map((n) => [n, address])) as Record<ContractName, typeof address>),
});
type DeploymentFile = z.infer<typeof DeploymentFile>;

/** Reads the published deployment file, or says in a sentence why it is not one. */
async function readDeployment(file: File): Promise<DeploymentFile> {
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch {
    throw new Error(`“${file.name}” is not a JSON file, so it is not a deployment file.`);
  }
  if ((json as { format?: string })?.format?.startsWith("scf-evidence-bundle")) {
    throw new Error(
      `“${file.name}” is an evidence bundle, not a deployment file. Give the deployment file first; drop the bundle below afterwards.`,
    );
  }
  const parsed = DeploymentFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`“${file.name}” is not a deployment file: its ${issue.path.join(".") || "content"} ${issue.message}.`);
  }
  return parsed.data;
}

function StandaloneVerifier() {
  const [deployment, setDeployment] = useState<{ file: string; value: DeploymentFile }>();
  const [rpc, setRpc] = useState("http://127.0.0.1:8545");
  const [chain, setChain] = useState<CourtChain>();
  const [connected, setConnected] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [tsaCerts, setTsaCerts] = useState<{ name: string; bytes: Uint8Array }[]>([]);

  async function connect() {
    setError(undefined);
    setChain(undefined);
    setConnected(undefined);
    if (!deployment) return setError(new Error("Choose the published deployment file first."));
    if (!/^https?:\/\//.test(rpc)) return setError(new Error("The node's address should start with http:// or https://."));
    setBusy(true);
    try {
      const client = createPublicClient({ transport: http(rpc, { retryCount: 1, timeout: 20_000 }) });
      const d = deployment.value;
      const chainId = await client.getChainId();
      if (chainId !== d.chainId)
        throw new Error(`This node is chain ${chainId}, but the deployment file is for chain ${d.chainId}: use a node of that chain.`);
      const genesis = (await client.getBlock({ blockNumber: 0n })).hash;
      if (genesis.toLowerCase() !== d.genesisHash.toLowerCase()) {
        throw new Error(`This node is a different chain: its genesis block is ${genesis}, the deployment file's is ${d.genesisHash}.`);
      }
      setChain({
        client: client as CourtChain["client"],
        chainId,
        contracts: d.contracts as Record<ContractName, Address>,
        startBlock: d.startBlock ?? 0,
      });
      setConnected(`Connected to ${rpc}: chain ${chainId}, genesis block ${genesis}, as the deployment file says.`);
    } catch (e) {
      setError(isUnreachable(e) ? new Error(`No node answered at ${rpc}. Check the address, or use another node of the chain.`) : e);
    } finally {
      setBusy(false);
    }
  }

  const published: PublishedDeployment | undefined = deployment && {
    chainId: deployment.value.chainId,
    genesisHash: deployment.value.genesisHash,
    contracts: deployment.value.contracts as Record<ContractName, Address>,
  };
  return (
    <main className="room standalone">
      <h1>Court verifier</h1>
      <p className="lead">
        This page stands alone: it needs no service, only the deployment file the consortium published and the address of any node of the
        chain. Everything is checked in this browser; no file is uploaded.
      </p>
      <Card title="1. The chain to check against">
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void connect();
          }}
        >
          <label htmlFor="deployment-file">Published deployment file (deployment.json)</label>
          <input
            id="deployment-file"
            type="file"
            accept=".json,application/json"
            onChange={async (e) => {
              setError(undefined);
              setChain(undefined);
              const f = e.target.files?.[0];
              if (!f) return;
              try {
                setDeployment({ file: f.name, value: await readDeployment(f) });
              } catch (err) {
                setDeployment(undefined);
                setError(err);
              }
            }}
          />
          <label htmlFor="rpc-url">JSON-RPC address of a node</label>
          <input id="rpc-url" value={rpc} onChange={(e) => setRpc(e.target.value)} placeholder="https://…" />
          <button type="submit" disabled={busy || !deployment}>
            Connect
          </button>
        </form>
        <label htmlFor="tsa-cert">Trusted time-stamping authority certificates (optional, PEM or DER)</label>
        <input
          id="tsa-cert"
          type="file"
          multiple
          onChange={async (e) =>
            setTsaCerts(
              await Promise.all(
                [...(e.target.files ?? [])].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
              ),
            )
          }
        />
        <p className="hint">
          {tsaCerts.length
            ? `Timestamps must chain to: ${tsaCerts.map((c) => c.name).join(", ")}.`
            : "Without one, a timestamp's signature is checked but the authority's identity is not."}
        </p>
        {deployment && (
          <p className="hint">
            Deployment file “{deployment.file}”: chain {deployment.value.chainId}, LoanAgreements at{" "}
            {deployment.value.contracts.LoanAgreements}.
          </p>
        )}
        {connected && (
          <p className="state ok" data-connected="yes">
            {connected}
          </p>
        )}
        <ErrorBox error={error} />
      </Card>
      {chain && <CourtChecker chain={chain} published={published} trustedTsaCertificates={tsaCerts.map((c) => c.bytes)} />}
    </main>
  );
}

createRoot(document.getElementById("root")!).render(<StandaloneVerifier />);
