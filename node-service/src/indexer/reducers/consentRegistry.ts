/** ConsentRegistry events -> consents per (borrower, lender), with the history of replaced grants. */
import type { Address, ConsentEntity, IndexState } from "../../domain/entities";
import { appended, put } from "../../domain/mutations";
import { addr, hex, must, num, type Reducer } from "./common";
import { NO_ITEMS } from "../../domain/intern";

export function consentKey(borrower: string, lender: string): string {
  return `${borrower.toLowerCase()}:${lender.toLowerCase()}`;
}

/** The index's consent record of (borrower, lender): one lookup, no scan. */
export function consentRecord(state: IndexState, borrower: Address, lender: Address): ConsentEntity | undefined {
  return state.consents[consentKey(borrower, lender)];
}

export const reduceConsentRegistry: Reducer = (state, ev) => {
  const a = ev.args;
  const borrower = addr(a.borrower);
  const lender = addr(a.lender);
  const key = consentKey(borrower, lender);
  const prev = state.consents[key];
  switch (ev.name) {
    case "ConsentGranted": {
      const history: ConsentEntity["history"] = prev ? appended(prev.history, grantOf(prev)) : NO_ITEMS;
      const c: ConsentEntity = {
        borrower,
        lender,
        scopes: num(a.scopes),
        grantedAt: num(a.at),
        expiresAt: num(a.expiresAt),
        purpose: hex(a.purpose),
        history,
        events: appended(prev?.events ?? [], ev.ref),
      };
      return [put("consents", key, c)];
    }
    case "ConsentRevoked": {
      const c = must(prev, `consent ${key}`, ev);
      return [put("consents", key, { ...c, revokedAt: num(a.at), events: appended(c.events, ev.ref) })];
    }
    default:
      throw new Error(`no reducer for ConsentRegistry.${ev.name}`);
  }
};

function grantOf(c: ConsentEntity): ConsentEntity["history"][number] {
  const g: ConsentEntity["history"][number] = { scopes: c.scopes, grantedAt: c.grantedAt, expiresAt: c.expiresAt, purpose: c.purpose };
  if (c.revokedAt !== undefined) g.revokedAt = c.revokedAt;
  return g;
}
