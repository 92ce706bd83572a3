/**
 * The court's question box, file drop and verdicts, shared by the court room of the app and the
 * standalone court verifier: drop a file (a document, or an evidence bundle with its documents) or
 * paste a sha256, agreement id or transaction hash. Files are hashed here, the chain is read here
 * (./check.ts), a dropped bundle is verified by the CLI's verifier module. When a service is there,
 * its answer is shown beside the chain's and any difference flagged; it only offers hints (a
 * document's batch proof), which the chain then decides.
 */
import { useState } from "react";
import type { Hex } from "viem";
import type { PublishedDeployment, Verdict as BundleVerdict } from "../../../node-service/src/evidence/verify";
import {
  asBundle,
  checkOnChain,
  proofsInBundle,
  sha256OfBytes,
  verifyBundleHere,
  type ChainVerdict,
  type CourtChain,
  type ProofHint,
} from "./check";
import { BundleVerdictView, ChainVerdictView, type NameSource } from "./Verdicts";
import { shortHex } from "../format";
import { Card, ErrorBox } from "../components/ui";

/** Batch proofs in the service's answer for a hash: hints the page checks against the chain. */
function proofsInAnswer(answer: Record<string, unknown> | null | undefined): ProofHint[] {
  const anchors = (answer?.anchors ?? []) as { via?: string; batch?: { root?: Hex; proof?: Hex[] } }[];
  return anchors
    .filter((a) => a.via === "batch" && a.batch?.root && a.batch.proof?.length)
    .map((a) => ({ root: a.batch!.root!, proof: a.batch!.proof!, source: "the service" }));
}

export interface CourtCheckerProps {
  chain: CourtChain;
  /** Names (with their openings) the service published, checked here against the chain's commitments; none standalone. */
  nameOf?: NameSource;
  /** The published deployment a dropped bundle is held to (the standalone verifier has it). */
  published?: PublishedDeployment;
  /** Asks the service (the app's court room); absent in the standalone verifier. */
  askService?: (path: string) => Promise<Record<string, unknown>>;
  /** Where to download an agreement's bundle (the app only). */
  bundleUrl?: (loanId: string) => string;
  /** Certificates of the time-stamping authorities the court trusts (PEM or DER). */
  trustedTsaCertificates?: Uint8Array[];
}

/** The question box, the file drop and the verdicts: the court room of the app and the standalone verifier. */
export function CourtChecker({ chain: courtChain, published, askService, bundleUrl, trustedTsaCertificates, nameOf }: CourtCheckerProps) {
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [chain, setChain] = useState<ChainVerdict>();
  const [bundle, setBundle] = useState<{ verdict: BundleVerdict; fileName: string }>();
  const [service, setService] = useState<Record<string, unknown> | null>();
  const [dragOver, setDragOver] = useState(false);

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
      const servicePath = /^\d+$/.test(query)
        ? `/api/evidence/agreement/${query}`
        : sha256
          ? `/api/evidence/${sha256}`
          : `/api/evidence/tx/${query}`;
      const answer = askService ? await askService(servicePath).catch((e) => ({ error: (e as Error).message })) : null;
      const v = await checkOnChain(courtChain, query, { sha256, proofs: [...extraProofs, ...proofsInAnswer(answer)] });
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
    const documents = read.filter((r) => r !== bundleFile);
    reset(documents[0]?.file.name ?? bundleFile?.file.name);
    if (bundleFile) {
      setBusy(true);
      try {
        const files = documents.map((r) => ({ name: r.file.name, bytes: new Uint8Array(r.bytes) }));
        const verdict = await verifyBundleHere(courtChain, asBundle(bundleFile.bytes), files, published, trustedTsaCertificates);
        setBundle({ verdict, fileName: bundleFile.file.name });
      } catch (e) {
        setError(e);
      } finally {
        setBusy(false);
      }
    }
    if (documents[0]) {
      // A document is checked on the chain; a batch proof the bundle carries for it is a hint the chain decides.
      const sha = await sha256OfBytes(documents[0].bytes);
      setText(sha);
      await check(sha, sha, proofsInBundle(bundleFile ? asBundle(bundleFile.bytes) : null, sha));
    }
  }

  const differences = chain && service ? compare(chain, service) : [];
  return (
    <>
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
            if (!/^\d+$/.test(norm) && !/^0x[0-9a-fA-F]{64}$/.test(norm))
              return setError(new Error("Enter a sha256 (64 hex digits), an agreement id (a number) or a transaction hash"));
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
            <ChainVerdictView v={chain} fileName={fileName} nameOf={nameOf} />
            {chain.kind === "agreement" && chain.loanId && bundleUrl && (
              <a href={bundleUrl(chain.loanId)} download={`evidence-agreement-${chain.loanId}.json`}>
                Download the evidence bundle
              </a>
            )}
          </Card>
          {askService && (
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
          )}
        </div>
      )}
    </>
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
  if (typeof anchoredSays === "boolean" && anchoredSays !== chain.anchored)
    diffs.push(`anchored: chain ${chain.anchored}, service ${anchoredSays}`);
  if (chain.anchored && chain.blockNumber !== undefined && !text.includes(chain.blockNumber.toString()))
    diffs.push(`block ${chain.blockNumber} not in the service's answer`);
  if (chain.txHash && !text.includes(chain.txHash.toLowerCase()))
    diffs.push(`transaction ${shortHex(chain.txHash, 6)} not in the service's answer`);
  return diffs;
}
