/**
 * A transaction hash as the UI shows it: a link to the block explorer when the service is configured
 * with one (EXPLORER_TX_URL, "{hash}" standing for the hash), else the hash as text. The full hash is in
 * the title either way.
 */
import { useContext } from "react";
import { shortHex } from "../format";
import { SessionContext } from "../hooks/session";

/** The explorer's URL of `hash`, or undefined without a template (or for something that is not a hash). */
export function explorerTxUrl(template: string | null | undefined, hash: string): string | undefined {
  if (!template || !/^0x[0-9a-fA-F]{64}$/.test(hash)) return undefined;
  return template.split("{hash}").join(hash);
}

export function TxHash({ hash, full = false, className }: { hash: string; full?: boolean; className?: string }) {
  const template = useContext(SessionContext)?.config.explorerTxUrl;
  const url = explorerTxUrl(template, hash);
  const text = (
    <code className={className} title={hash} style={full ? { overflowWrap: "anywhere" } : undefined}>
      {full ? hash : shortHex(hash, 4)}
    </code>
  );
  return url ? (
    <a href={url} target="_blank" rel="noopener noreferrer" data-explorer-tx={hash}>
      {text}
    </a>
  ) : (
    text
  );
}
