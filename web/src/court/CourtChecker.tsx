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
import { tNs, translateKnown, useT } from "../i18n";

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
  const t = useT("court");
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
      <Card title={t("checker.title")}>
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
          <label htmlFor="evidence-file">{t("checker.drop")}</label>
          <input id="evidence-file" type="file" multiple onChange={(e) => void onFiles([...(e.target.files ?? [])])} />
          <p className="hint">{t("checker.notUploaded")}</p>
        </div>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            reset();
            const q = text.trim();
            const norm = /^[0-9a-fA-F]{64}$/.test(q) ? `0x${q}` : q;
            if (!/^\d+$/.test(norm) && !/^0x[0-9a-fA-F]{64}$/.test(norm)) return setError(new Error(t("checker.invalidQuery")));
            void check(norm.toLowerCase());
          }}
        >
          <label htmlFor="evidence-query">{t("checker.query")}</label>
          <input id="evidence-query" value={text} onChange={(e) => setText(e.target.value)} placeholder={t("checker.placeholder")} />
          <button type="submit" disabled={busy}>
            {t("checker.check")}
          </button>
        </form>
        {busy && (
          <p className="state loading" role="status">
            {t("checker.reading")}
          </p>
        )}
        <ErrorBox error={error} />
      </Card>
      {bundle && (
        <Card title={t("checker.bundleTitle")}>
          <BundleVerdictView verdict={bundle.verdict} fileName={bundle.fileName} />
        </Card>
      )}
      {chain && (
        <div className="grid2">
          <Card title={t("checker.chainTitle")}>
            <ChainVerdictView v={chain} fileName={fileName} nameOf={nameOf} />
            {chain.kind === "agreement" && chain.loanId && bundleUrl && (
              <a href={bundleUrl(chain.loanId)} download={`evidence-agreement-${chain.loanId}.json`}>
                {t("checker.downloadBundle")}
              </a>
            )}
          </Card>
          {askService && (
            <Card title={t("service.title")}>
              {!service ? (
                <p className="state loading" role="status">
                  {t("service.asking")}
                </p>
              ) : (
                <ServiceAnswer answer={service} />
              )}
              {differences.length > 0 ? (
                <div className="state error" role="alert">
                  {t("service.disagrees", { list: differences.join(t("service.separator")) })}
                </div>
              ) : service && !("error" in service) ? (
                <p className="state ok">{t("service.matches")}</p>
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
  const t = useT("court");
  const a = answer as { anchored?: boolean; summary?: string; status?: string; loanId?: string; error?: string };
  return (
    <>
      {a.error ? (
        <p className="state error">
          {t("service.couldNot")} <span lang="en">{a.error}</span>
        </p>
      ) : (
        <dl className="facts">
          {a.anchored !== undefined && (
            <>
              <dt>{t("service.anchored")}</dt>
              <dd>{a.anchored ? t("service.yes") : t("service.no")}</dd>
            </>
          )}
          {a.loanId && (
            <>
              <dt>{t("service.agreement")}</dt>
              <dd>
                #{a.loanId}
                {a.status
                  ? `${t("service.separator")}${translateKnown("common", `status.${a.status.toLowerCase()}`, a.status).toLowerCase()}`
                  : ""}
              </dd>
            </>
          )}
          {a.summary && (
            <>
              <dt>{t("service.summary")}</dt>
              <dd lang="en">{a.summary}</dd>
            </>
          )}
        </dl>
      )}
      <details>
        <summary>{t("service.json")}</summary>
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
  const t = tNs("court");
  const anchoredSays = (service as { anchored?: boolean }).anchored;
  if (typeof anchoredSays === "boolean" && anchoredSays !== chain.anchored)
    diffs.push(t("diff.anchored", { chain: String(chain.anchored), service: String(anchoredSays) }));
  if (chain.anchored && chain.blockNumber !== undefined && !text.includes(chain.blockNumber.toString()))
    diffs.push(t("diff.block", { block: chain.blockNumber.toString() }));
  if (chain.txHash && !text.includes(chain.txHash.toLowerCase())) diffs.push(t("diff.tx", { tx: shortHex(chain.txHash, 6) }));
  return diffs;
}
