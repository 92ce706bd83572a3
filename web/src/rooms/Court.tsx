/**
 * The court / auditor room, usable without signing in: drop a file or paste a sha256, agreement id or
 * transaction hash. The page hashes the file itself and reads the chain itself (viem against the
 * public RPC), shows the verdict beside the service's answer, and flags any difference.
 */
import { useState } from "react";
import { decodeEventLog, getAbiItem, recoverTypedDataAddress, type Hex, type Log } from "viem";
import { api } from "../api";
import { useSession, type Session } from "../hooks/session";
import { ABI } from "../contracts";
import { loanTermsFromJson, loanTermsTypedData, roleNames } from "../../../node-service/src/chain/eip712";
import { formatAmount, formatDateTime, shortHex } from "../format";
import { publicClientOf } from "../wallet";
import { Card, ErrorBox } from "../components/ui";

interface Signer {
  role: "borrower" | "lender";
  expected: string;
  recovered: string | null;
  registered: boolean;
  roles: number;
}
interface ChainVerdict {
  query: string;
  sha256?: Hex;
  anchored: boolean;
  kind: "document" | "agreement" | "transaction" | "none";
  blockNumber?: bigint;
  blockHash?: Hex;
  time?: number;
  txHash?: Hex;
  anchorer?: string;
  loanId?: string;
  principal?: string;
  signers?: Signer[];
  notes: string[];
}

async function sha256OfFile(file: File): Promise<Hex> {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return `0x${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Everything here is read from the chain by this page; the service is not asked. */
async function checkOnChain(session: Session, query: string, sha256?: Hex): Promise<ChainVerdict> {
  const { config } = session;
  const client = publicClientOf(config);
  const notes: string[] = [];
  const agreementEvent = getAbiItem({ abi: ABI.LoanAgreements, name: "AgreementRecorded" });
  const agreementLogs = async (args?: Record<string, unknown>) =>
    (await client.getLogs({ address: config.contracts.LoanAgreements, event: agreementEvent as never, args: args as never, fromBlock: 0n, toBlock: "latest" })) as Log[];

  async function fromAgreementLog(log: Log): Promise<ChainVerdict> {
    const { args } = decodeEventLog({ abi: ABI.LoanAgreements, data: log.data, topics: log.topics }) as unknown as {
      args: { loanId: bigint; digest: Hex; borrower: string; lender: string; terms: Record<string, unknown>; borrowerSignature: Hex; lenderSignature: Hex; at: number };
    };
    const block = await client.getBlock({ blockHash: log.blockHash! });
    // The same EIP-712 definition the contract and the service use (node-service/src/chain/eip712.ts).
    const typed = loanTermsTypedData(config.chainId, config.contracts.LoanAgreements, loanTermsFromJson(args.terms));
    const signers: Signer[] = [];
    for (const [role, expected, signature] of [
      ["borrower", args.borrower, args.borrowerSignature],
      ["lender", args.lender, args.lenderSignature],
    ] as const) {
      let recovered: string | null = null;
      try {
        recovered = await recoverTypedDataAddress({ ...typed, signature } as never);
      } catch {
        notes.push(`${role} signature does not recover (a contract wallet signs with ERC-1271; the contract checked it when recording)`);
      }
      const p = (await client.readContract({ address: config.contracts.ParticipantRegistry, abi: ABI.ParticipantRegistry, functionName: "participant", args: [expected] })) as {
        roles: number;
        admittedAt: number;
      };
      signers.push({ role, expected, recovered, registered: Number(p.admittedAt) > 0, roles: Number(p.roles) });
    }
    return {
      query,
      sha256: args.terms.documentHash as Hex,
      anchored: true,
      kind: "agreement",
      blockNumber: log.blockNumber!,
      blockHash: log.blockHash!,
      time: Number(block.timestamp),
      txHash: log.transactionHash!,
      loanId: args.loanId.toString(),
      principal: String(args.terms.principal),
      signers,
      notes,
    };
  }

  if (/^\d+$/.test(query)) {
    const logs = await agreementLogs({ loanId: BigInt(query) });
    if (logs.length === 0) return { query, anchored: false, kind: "none", notes: [`no agreement ${query} on chain`] };
    return fromAgreementLog(logs[0]);
  }
  const hash = (sha256 ?? query) as Hex;
  // A document anchored on the notary? Records are per anchorer: the first anchoring log names one.
  const anchoredEvent = getAbiItem({ abi: ABI.EvidenceNotary, name: "Anchored" });
  const [firstAnchor] = (await client.getLogs({ address: config.contracts.EvidenceNotary, event: anchoredEvent as never, args: { documentHash: hash } as never, fromBlock: 0n, toBlock: "latest" })) as Log[];
  const anchorer = firstAnchor ? (decodeEventLog({ abi: ABI.EvidenceNotary, data: firstAnchor.data, topics: firstAnchor.topics }) as unknown as { args: { anchorer: Hex } }).args.anchorer : null;
  const anchor = anchorer
    ? ((await client.readContract({ address: config.contracts.EvidenceNotary, abi: ABI.EvidenceNotary, functionName: "getAnchor", args: [hash, anchorer] })) as {
        anchorer: string;
        timestamp: number;
        blockNumber: number;
        kind: number;
      })
    : { anchorer: "", timestamp: 0, blockNumber: 0, kind: 0 };
  // The document of a signed agreement?
  const agreement = (await agreementLogs()).find((l) => {
    const { args } = decodeEventLog({ abi: ABI.LoanAgreements, data: l.data, topics: l.topics }) as unknown as { args: { terms: { documentHash: Hex } } };
    return args.terms.documentHash.toLowerCase() === hash.toLowerCase();
  });
  if (agreement) {
    const v = await fromAgreementLog(agreement);
    if (Number(anchor.timestamp) > 0) v.notes.push(`also anchored on the notary at block ${anchor.blockNumber}`);
    return v;
  }
  if (Number(anchor.timestamp) > 0) {
    const block = await client.getBlock({ blockNumber: BigInt(anchor.blockNumber) });
    return { query, sha256: hash, anchored: true, kind: "document", blockNumber: BigInt(anchor.blockNumber), blockHash: block.hash, time: Number(anchor.timestamp), anchorer: anchor.anchorer, notes };
  }
  if (!sha256) {
    const receipt = await client.getTransactionReceipt({ hash }).catch(() => null);
    if (receipt) {
      const block = await client.getBlock({ blockHash: receipt.blockHash });
      const ours = receipt.logs.filter((l) => Object.values(config.contracts).some((a) => a.toLowerCase() === l.address.toLowerCase()));
      return {
        query,
        anchored: true,
        kind: "transaction",
        blockNumber: receipt.blockNumber,
        blockHash: receipt.blockHash,
        time: Number(block.timestamp),
        txHash: hash,
        notes: [`${ours.length} events of the network's contracts in this transaction; status ${receipt.status}`],
      };
    }
  }
  return { query, sha256: hash, anchored: false, kind: "none", notes };
}

export function CourtRoom() {
  const session = useSession();
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [chain, setChain] = useState<ChainVerdict>();
  const [service, setService] = useState<Record<string, unknown> | null>();
  const [dragOver, setDragOver] = useState(false);

  async function check(query: string, sha256?: Hex) {
    setBusy(true);
    setError(undefined);
    setChain(undefined);
    setService(undefined);
    try {
      const v = await checkOnChain(session, query, sha256);
      setChain(v);
      const servicePath = /^\d+$/.test(query) ? `/api/evidence/agreement/${query}` : sha256 ? `/api/evidence/${sha256}` : `/api/evidence/tx/${query}`;
      setService(await api<Record<string, unknown>>(servicePath).catch((e) => ({ error: (e as Error).message })));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function onFile(file: File) {
    setFileName(file.name);
    const sha = await sha256OfFile(file);
    setText(sha);
    await check(sha, sha);
  }

  const differences = chain && service ? compare(chain, service) : [];
  return (
    <div className="room">
      <h1>Court / auditor</h1>
      <p className="lead">Check a document or a contract against the chain yourself. No sign-in needed; this page reads the chain directly.</p>
      <Card title="What do you want to check?">
        <div
          className={`dropzone${dragOver ? " over" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragOver(true);
          }}
          onDragLeave={() => setDragOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragOver(false);
            const f = e.dataTransfer.files[0];
            if (f) void onFile(f);
          }}
        >
          <label htmlFor="evidence-file">Drop a file here, or choose one</label>
          <input id="evidence-file" type="file" onChange={(e) => e.target.files?.[0] && onFile(e.target.files[0])} />
          <p className="hint">The file is hashed in your browser (sha256); it is not uploaded.</p>
        </div>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const q = text.trim();
            const norm = /^[0-9a-fA-F]{64}$/.test(q) ? `0x${q}` : q;
            if (!/^\d+$/.test(norm) && !/^0x[0-9a-fA-F]{64}$/.test(norm)) return setError(new Error("Enter a sha256 (64 hex digits), an agreement id (a number) or a transaction hash"));
            setFileName(undefined);
            void check(norm.toLowerCase(), /^\d+$/.test(norm) ? undefined : undefined);
          }}
        >
          <label htmlFor="evidence-query">sha256, agreement id or transaction hash</label>
          <input id="evidence-query" value={text} onChange={(e) => setText(e.target.value)} placeholder="0x… or 42" />
          <button type="submit" disabled={busy}>
            Check
          </button>
        </form>
        {busy && (
          <p className="state loading" role="status">
            Reading the chain…
          </p>
        )}
        <ErrorBox error={error} />
      </Card>
      {chain && (
        <div className="grid2">
          <Card title="Verdict from the chain (checked by this page)">
            <Verdict v={chain} fileName={fileName} />
          </Card>
          <Card title="The service's answer">
            {!service ? (
              <p className="state loading" role="status">
                Asking the service…
              </p>
            ) : (
              <ServiceAnswer answer={service} />
            )}
            {differences.length > 0 ? (
              <div className="state error" role="alert">
                The service disagrees with the chain: {differences.join("; ")}
              </div>
            ) : service && !("error" in service) ? (
              <p className="state ok">The service's answer matches the chain.</p>
            ) : null}
          </Card>
        </div>
      )}
    </div>
  );
}

/** The service's answer in words, with the raw JSON one click away. */
function ServiceAnswer({ answer }: { answer: Record<string, unknown> }) {
  const a = answer as { anchored?: boolean; summary?: string; status?: string; loanId?: string; error?: string };
  return (
    <>
      {a.error ? (
        <p className="state error">The service could not answer: {a.error}</p>
      ) : (
        <dl className="facts">
          {a.anchored !== undefined && (
            <>
              <dt>Anchored</dt>
              <dd>{a.anchored ? "yes" : "no"}</dd>
            </>
          )}
          {a.loanId && (
            <>
              <dt>Agreement</dt>
              <dd>
                #{a.loanId}
                {a.status ? `, ${a.status.toLowerCase()}` : ""}
              </dd>
            </>
          )}
          {a.summary && (
            <>
              <dt>Summary</dt>
              <dd>{a.summary}</dd>
            </>
          )}
        </dl>
      )}
      <details>
        <summary>The service's full answer (JSON)</summary>
        <pre className="json">{JSON.stringify(answer, null, 2)}</pre>
      </details>
    </>
  );
}

/** The verdict's notes, one paragraph each. */
function Notes({ notes }: { notes: string[] }) {
  return (
    <>
      {notes.map((n) => (
        <p key={n} className="hint">
          {n}
        </p>
      ))}
    </>
  );
}

function Verdict({ v, fileName }: { v: ChainVerdict; fileName?: string }) {
  if (!v.anchored) {
    return (
      <div className="verdict bad" data-verdict="not-anchored" role="alert">
        <h3>Not anchored</h3>
        <p>
          {fileName ? `The file “${fileName}” (sha256 ${shortHex(v.sha256, 8)})` : `“${shortHex(v.query, 8)}”`} was never anchored on this chain. If it is meant to be a
          signed document, it is not the document that was signed.
        </p>
        <Notes notes={v.notes} />
      </div>
    );
  }
  const allSigned = v.signers?.every((s) => s.registered && (s.recovered === null || s.recovered.toLowerCase() === s.expected.toLowerCase()));
  return (
    <div className={`verdict ${v.kind === "agreement" && !allSigned ? "bad" : "good"}`} data-verdict={v.kind === "agreement" && !allSigned ? "signature-mismatch" : "anchored"}>
      <h3>
        {v.kind === "agreement" ? `Signed loan agreement #${v.loanId}` : v.kind === "document" ? "Anchored document" : "Transaction on chain"}
      </h3>
      <p className="verdict-summary">
        {v.kind === "agreement" ? `Signed loan agreement #${v.loanId}, anchored` : v.kind === "document" ? "Anchored" : "Recorded"} at block{" "}
        <strong>{v.blockNumber?.toString()}</strong> on <strong>{formatDateTime(v.time)}</strong>
        {v.kind === "agreement"
          ? allSigned
            ? ", signed by the borrower and the lender, registered participants."
            : ": the signatures or the signers do not check out (see below)."
          : "."}
      </p>
      <dl className="facts">
        {v.sha256 && (
          <>
            <dt>sha256</dt>
            <dd>
              <code>{v.sha256}</code>
            </dd>
          </>
        )}
        <dt>Block hash</dt>
        <dd>
          <code>{shortHex(v.blockHash, 10)}</code>
        </dd>
        {v.txHash && (
          <>
            <dt>Transaction</dt>
            <dd>
              <code>{shortHex(v.txHash, 10)}</code>
            </dd>
          </>
        )}
        {v.anchorer && (
          <>
            <dt>Anchored by</dt>
            <dd>
              <code>{v.anchorer}</code>
            </dd>
          </>
        )}
        {v.principal && (
          <>
            <dt>Principal</dt>
            <dd>{formatAmount(v.principal)}</dd>
          </>
        )}
      </dl>
      {v.signers && (
        <ul className="signers">
          {v.signers.map((s) => (
            <li key={s.role}>
              Signed by the {s.role} <code>{s.expected}</code>:{" "}
              {s.recovered === null ? "contract wallet (ERC-1271)" : s.recovered.toLowerCase() === s.expected.toLowerCase() ? "signature recovers to this address" : `signature recovers to ${s.recovered}: MISMATCH`}
              {s.registered ? `, a registered participant (${roleNames(s.roles).map((n) => n.toLowerCase()).join(", ") || "no role"})` : ", NOT a registered participant"}
            </li>
          ))}
        </ul>
      )}
      {v.kind === "agreement" && v.loanId && (
        <a href={`/api/evidence/bundle/agreement/${v.loanId}`} download={`evidence-agreement-${v.loanId}.json`}>
          Download the evidence bundle
        </a>
      )}
      <Notes notes={v.notes} />
    </div>
  );
}

/** Differences between what this page read from the chain and what the service says. */
function compare(chain: ChainVerdict, service: Record<string, unknown>): string[] {
  if ("error" in service) return [];
  const text = JSON.stringify(service).toLowerCase();
  const diffs: string[] = [];
  const anchoredSays = (service as { anchored?: boolean }).anchored;
  if (typeof anchoredSays === "boolean" && anchoredSays !== chain.anchored) diffs.push(`anchored: chain ${chain.anchored}, service ${anchoredSays}`);
  if (chain.anchored && chain.blockNumber !== undefined && !text.includes(chain.blockNumber.toString())) diffs.push(`block ${chain.blockNumber} not in the service's answer`);
  if (chain.txHash && !text.includes(chain.txHash.toLowerCase())) diffs.push(`transaction ${shortHex(chain.txHash, 6)} not in the service's answer`);
  return diffs;
}
