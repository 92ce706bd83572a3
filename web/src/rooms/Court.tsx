/**
 * The court / auditor room, usable without signing in. The checks are the standalone court
 * verifier's (../court/CourtChecker.tsx), here with the service's answer shown beside the chain's.
 */
import type { Address } from "viem";
import { api } from "../api";
import { useSession } from "../hooks/session";
import { useParticipants } from "../hooks/participants";
import type { ContractName } from "../../../node-service/src/chain/contract-names";
import { CourtChecker } from "../court/CourtChecker";
import { publicClientOf } from "../wallet";
import { Trans, useT } from "../i18n";

export function CourtRoom() {
  const t = useT("court");
  const { config } = useSession();
  // Signed in as a member: the directory's names, each re-checked in the browser against the chain's commitment.
  const directory = useParticipants();
  const chain = {
    client: publicClientOf(config),
    chainId: config.chainId,
    contracts: config.contracts as Record<ContractName, Address>,
    startBlock: 0,
  };
  return (
    <div className="room">
      <h1>{t("room.title")}</h1>
      <p className="lead">
        <Trans t={t} i18nKey="room.lead" components={{ a: <a href="/court-verifier.html" download="court-verifier.html" /> }} />
      </p>
      <CourtChecker
        chain={chain}
        askService={(path) => api<Record<string, unknown>>(path)}
        bundleUrl={(id) => `/api/evidence/bundle/agreement/${id}`}
        nameOf={(address) => {
          const e = directory.get(address.toLowerCase());
          return e?.name && e.salt ? { name: e.name, salt: e.salt as `0x${string}` } : null;
        }}
      />
    </div>
  );
}
