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
import { tNs, useT } from "../i18n";
import { LanguageSwitch } from "../i18n/LanguageSwitch";
import "../styles.css";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, { error: () => tNs("court")("deployment.mustBeAddress") });
const DeploymentFile = z.object({
  chainId: z.number().int().positive(),
  genesisHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/, { error: () => tNs("court")("deployment.mustBeHash") }),
  startBlock: z.number().int().nonnegative().optional(),
  contracts: z.object(Object.fromEntries(CONTRACT_NAMES.map((n) => [n, address])) as Record<ContractName, typeof address>),
});
type DeploymentFile = z.infer<typeof DeploymentFile>;

/** Reads the published deployment file, or says in a sentence why it is not one. */
async function readDeployment(file: File): Promise<DeploymentFile> {
  const t = tNs("court");
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch {
    throw new Error(t("deployment.notJson", { name: file.name }));
  }
  if ((json as { format?: string })?.format?.startsWith("scf-evidence-bundle")) {
    throw new Error(t("deployment.isBundle", { name: file.name }));
  }
  const parsed = DeploymentFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      t("deployment.invalid", { name: file.name, field: issue.path.join(".") || t("deployment.content"), problem: issue.message }),
    );
  }
  return parsed.data;
}

function StandaloneVerifier() {
  const t = useT("court");
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
    if (!deployment) return setError(new Error(t("standalone.errors.noDeployment")));
    if (!/^https?:\/\//.test(rpc)) return setError(new Error(t("standalone.errors.rpcScheme")));
    setBusy(true);
    try {
      const client = createPublicClient({ transport: http(rpc, { retryCount: 1, timeout: 20_000 }) });
      const d = deployment.value;
      const chainId = await client.getChainId();
      if (chainId !== d.chainId) throw new Error(t("standalone.errors.otherChain", { chainId, expected: d.chainId }));
      const genesis = (await client.getBlock({ blockNumber: 0n })).hash;
      if (genesis.toLowerCase() !== d.genesisHash.toLowerCase()) {
        throw new Error(t("standalone.errors.otherGenesis", { genesis, expected: d.genesisHash }));
      }
      setChain({
        client: client as CourtChain["client"],
        chainId,
        contracts: d.contracts as Record<ContractName, Address>,
        startBlock: d.startBlock ?? 0,
      });
      setConnected(t("standalone.connected", { rpc, chainId, genesis }));
    } catch (e) {
      setError(isUnreachable(e) ? new Error(t("standalone.errors.unreachable", { rpc })) : e);
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
      <div className="standalone-top">
        <h1>{t("standalone.title")}</h1>
        <LanguageSwitch />
      </div>
      <p className="lead">{t("standalone.lead")}</p>
      <Card title={t("standalone.chainCard")}>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void connect();
          }}
        >
          <label htmlFor="deployment-file">{t("standalone.deploymentFile")}</label>
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
          <label htmlFor="rpc-url">{t("standalone.rpc")}</label>
          <input id="rpc-url" value={rpc} onChange={(e) => setRpc(e.target.value)} placeholder={t("standalone.rpcPlaceholder")} />
          <button type="submit" disabled={busy || !deployment}>
            {t("standalone.connect")}
          </button>
        </form>
        <label htmlFor="tsa-cert">{t("standalone.tsa")}</label>
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
          {tsaCerts.length ? t("standalone.tsaChosen", { list: tsaCerts.map((c) => c.name).join(", ") }) : t("standalone.tsaNone")}
        </p>
        {deployment && (
          <p className="hint">
            {t("standalone.deploymentRead", {
              name: deployment.file,
              chainId: deployment.value.chainId,
              address: deployment.value.contracts.LoanAgreements,
            })}
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
