/** ParticipantRegistry events -> participants (admission, roles, suspension). */
import type { ParticipantEntity } from "../../domain/entities";
import { appended, push, put, type Mutation } from "../../domain/mutations";
import { decodeAttribute } from "../../domain/kyc-attributes";
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
      return [put("participants", address, p), ...attributeValues(p.kycAttributes).map((v) => push("participantsByAttribute", v, address))];
    }
    case "ParticipantKycUpdated": {
      const p = must(state.participants[addr(a.account)], "participant", ev);
      const kycAttributes = (a.kycAttributes as unknown[]).map(hex);
      const next: ParticipantEntity = {
        ...p,
        kycDossierHash: hex(a.kycDossierHash),
        displayNameHash: hex(a.displayNameHash),
        kycAttributes,
        kycHistory: [
          ...(p.kycHistory ?? []),
          { until: ev.ref.at, kycDossierHash: p.kycDossierHash, displayNameHash: p.displayNameHash, kycAttributes: p.kycAttributes },
        ],
        events: appended(p.events ?? [p.admitted], ev.ref),
      };
      // Values already listed for this participant stay listed (the screen checks what it holds as of its time).
      const fresh = attributeValues(kycAttributes).filter((v) => !(state.participantsByAttribute[v] ?? []).includes(p.address));
      return [put("participants", p.address, next), ...fresh.map((v) => push("participantsByAttribute", v, p.address))];
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

/** The distinct comparable values of attribute hashes (zero hashes left out). */
function attributeValues(hashes: readonly string[]): string[] {
  return [...new Set(hashes.filter((h) => BigInt(h) !== 0n).map((h) => decodeAttribute(h as `0x${string}`).value))];
}

function update(
  existing: ParticipantEntity | undefined,
  ev: Parameters<Reducer>[1],
  change: (p: ParticipantEntity) => ParticipantEntity,
): Mutation[] {
  const p = must(existing, "participant", ev);
  const next = change(p);
  next.events = appended(p.events ?? [p.admitted], ev.ref);
  return [put("participants", p.address, next)];
}
