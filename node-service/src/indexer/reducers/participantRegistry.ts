/** ParticipantRegistry events -> participants (admission, roles, suspension). */
import type { ParticipantEntity } from "../../domain/entities";
import { push, put, type Mutation } from "../../domain/mutations";
import { decodeAttribute } from "../../risk/attributes";
import { addr, hex, must, num, type Reducer } from "./common";

export const reduceParticipantRegistry: Reducer = (state, ev) => {
  const a = ev.args;
  switch (ev.name) {
    case "ParticipantAdmitted": {
      const address = addr(a.account);
      const p: ParticipantEntity = {
        address,
        roles: num(a.roles),
        suspended: false,
        admittedAt: num(a.admittedAt),
        kycDossierHash: hex(a.kycDossierHash),
        displayNameHash: hex(a.displayNameHash),
        kycAttributes: (a.kycAttributes as unknown[]).map(hex),
        admitted: ev.ref,
        events: [ev.ref],
      };
      // The attribute index the related-party screen walks (one entry per distinct comparable value).
      const values = new Set(p.kycAttributes.filter((h) => BigInt(h) !== 0n).map((h) => decodeAttribute(h).value));
      return [put("participants", address, p), ...[...values].map((v) => push("participantsByAttribute", v, address))];
    }
    case "ParticipantRolesChanged":
      return update(state.participants[addr(a.account)], ev, (p) => ({ ...p, roles: num(a.roles) }));
    case "ParticipantSuspended":
      return update(state.participants[addr(a.account)], ev, (p) => ({ ...p, suspended: true, suspensionReason: num(a.reasonCode) }));
    case "ParticipantReinstated":
      return update(state.participants[addr(a.account)], ev, (p) => {
        const next = { ...p, suspended: false };
        delete next.suspensionReason;
        return next;
      });
    default:
      return []; // AccessControl role events: kept in eventsByTx only
  }
};

function update(
  existing: ParticipantEntity | undefined,
  ev: Parameters<Reducer>[1],
  change: (p: ParticipantEntity) => ParticipantEntity,
): Mutation[] {
  const p = must(existing, "participant", ev);
  const next = change(p);
  next.events = [...(p.events ?? [p.admitted]), ev.ref];
  return [put("participants", p.address, next)];
}
