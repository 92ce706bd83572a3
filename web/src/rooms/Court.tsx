/**
 * The court / auditor room, usable without signing in: drop a file (a document or an evidence bundle)
 * or paste a sha256, agreement id or transaction hash. The page hashes files itself, reads the chain
 * itself (viem against the public RPC) with the checks it shares with the standalone court verifier
 * (../court/check.ts), verifies a dropped bundle with the same module as the command-line verifier,
 * shows the verdict beside the service's answer, and flags any difference. The service only offers
 * hints (a document's batch proof), which the chain then decides.
 */
import { useState } from "react";
import type { Address, Hex } from "viem";
import { api } from "../api";
import { useSession } from "../App";
import type { ContractName } from "../../../node-service/src/chain/contract-names";
import type { Verdict as BundleVerdict } from "../../../node-service/src/evidence/verify";
import { asBundle, checkOnChain, sha256OfBytes, verifyBundleHere, type ChainVerdict, type CourtChain, type ProofHint } from "../court/check";
import { BundleVerdictView, ChainVerdictView } from "../court/Verdicts";
import { shortHex } from "../format";
import { publicClientOf } from "../wallet";
import { Card, ErrorBox } from "../components/ui";

/** Batch proofs in the service's answer for a hash: hints the page checks against the chain. */
function proofsInAnswer(answer: Record<string, unknown> | null | undefined): ProofHint[] {
  const anchors = (answer?.anchors ?? []) as { via?: string; batch?: { root?: Hex; proof?: Hex[] } }[];
  return anchors
    .filter((a) => a.via === "batch" && a.batch?.root && a.batch.proof?.length)
    .map((a) => ({ root: a.batch!.root!, proof: a.batch!.proof!, source: "the service" }));
}

export function CourtRoom() {
  const session = useSession();
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [chain, setChain] = useState<ChainVerdict>();
  const [bundle, setBundle] = useState<{ verdict: BundleVerdict; fileName: string }>();
  const [service, setService] = useState<Record<string, unknown> | null>();
  const [dragOver, setDragOver] = useState(false);
  const courtChain = (): CourtChain => ({
    client: publicClientOf(session.config),
    chainId: session.config.chainId,
    contracts: session.config.contracts as Record<ContractName, Address>,
    startBlock: 0,
  });

  /** Every new question starts from a clean page: no earlier verdict stays on screen. */
  function reset(name?: string) {
    setError(undefined);
    setChain(undefined);
    setBundle(undefined);
    setService(undefined);
    setFileName(name);
  }

  async function check(query: string, sha256?: Hex, extraProofs: ProofHint[] = []) {
    setBusy(true);
    try {
      const servicePath = /^\d+$/.test(query) ? `/api/evidence/agreement/${query}` : sha256 ? `/api/evidence/${sha256}` : `/api/evidence/tx/${query}`;
      const answer = await api<Record<string, unknown>>(servicePath).catch((e) => ({ error: (e as Error).message }));
      const v = await checkOnChain(courtChain(), query, { sha256, proofs: [...extraProofs, ...proofsInAnswer(answer)] });
      setChain(v);
      setService(answer);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function onFiles(files: File[]) {
    if (!files.length) return;
    const read = await Promise.all(files.map(async (f) => ({ file: f, bytes: await f.arrayBuffer() })));
    const bundleFile = read.find((r) => asBundle(r.bytes));
    if (bundleFile) {
      reset(bundleFile.file.name);
      setBusy(true);
      try {
        const documents = read.filter((r) => r !== bundleFile).map((r) => ({ name: r.file.name, bytes: new Uint8Array(r.bytes) }));
        const verdict = await verifyBundleHere(courtChain(), asBundle(bundleFile.bytes), documents);
        setBundle({ verdict, fileName: bundleFile.file.name });
      } catch (e) {
        setError(e);
      } finally {
        setBusy(false);
      }
      return;
    }
    const [first] = read;
    reset(first.file.name);
    const sha = await sha256OfBytes(first.bytes);
    setText(sha);
    await check(sha, sha);
  }

  const differences = chain && service ? compare(chain, service) : [];
  return (
    <div className="room">
      <h1>Court / auditor</h1>
      <p className="lead">
        Check a document, an agreement or an evidence bundle against the chain yourself. No sign-in needed; this page reads the chain directly. A{" "}
        <a href="/court-verifier.html" download="court-verifier.html">
          standalone court verifier
        </a>{" "}
        (one HTML file) does the same with no service at all.
      </p>
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
            void onFiles([...e.dataTransfer.files]);
          }}
        >
          <label htmlFor="evidence-file">Drop a file here, or choose one (a document, or an evidence bundle with its documents)</label>
          <input id="evidence-file" type="file" multiple onChange={(e) => void onFiles([...(e.target.files ?? [])])} />
          <p className="hint">Files are hashed and checked in your browser; they are not uploaded.</p>
        </div>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            reset();
            const q = text.trim();
            const norm = /^[0-9a-fA-F]{64}$/.test(q) ? `0x${q}` : q;
            if (!/^\d+$/.test(norm) && !/^0x[0-9a-fA-F]{64}$/.test(norm)) return setError(new Error("Enter a sha256 (64 hex digits), an agreement id (a number) or a transaction hash"));
            void check(norm.toLowerCase());
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
      {bundle && (
        <Card title="Evidence bundle (checked by this page against the chain)">
          <BundleVerdictView verdict={bundle.verdict} fileName={bundle.fileName} />
        </Card>
      )}
      {chain && (
        <div className="grid2">
          <Card title="Verdict from the chain (checked by this page)">
            <ChainVerdictView v={chain} fileName={fileName} />
            {chain.kind === "agreement" && chain.loanId && (
              <a href={`/api/evidence/bundle/agreement/${chain.loanId}`} download={`evidence-agreement-${chain.loanId}.json`}>
                Download the evidence bundle
              </a>
            )}
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
