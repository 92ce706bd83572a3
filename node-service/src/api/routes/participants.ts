/**
 * The participants directory: registered names with their proof (participants/directory.ts).
 *
 * Who sees names: the consortium's members (any admitted participant, whatever its roles, auditors and
 * courts included) and the operator: members need to know who their counterparties are. Anyone else
 * signed in (an address the registry does not know) is refused; an outside court gets the names of an
 * agreement's parties inside the evidence bundle it is given, with the same openings.
 */
import path from "node:path";
import { z } from "zod";
import { ForbiddenError } from "../../domain/errors";
import { directoryEntries, directoryEntry, readParticipantNames } from "../../participants/directory";
import { requireSession } from "../authorize";
import { address } from "../schemas";
import type { RouteContext } from "../app";

const ERRORS = [400, 401, 403, 429];

export function mountParticipantRoutes({ deps, table }: RouteContext): void {
  const dataDir = path.resolve(deps.config.DATA_DIR);

  function member(res: Parameters<typeof requireSession>[0]): void {
    const session = requireSession(res);
    if (!session.operator && session.roles === 0)
      throw new ForbiddenError("participant names are shown to the network's members: this account is not an admitted participant", {
        textCode: "names_members_only",
        params: {},
      });
  }

  table.add(
    {
      method: "get",
      path: "/api/participants",
      summary:
        "Every participant with its registered name and the proof of it: { participants: [{ address, roles, suspended, name, salt, status (verified | claim | null), displayNameHash, detail }] } (members only)",
      tag: "participants",
      auth: "session",
      errors: ERRORS,
    },
    async ({ res }) => {
      member(res);
      const [index, names] = await Promise.all([deps.participantReads.all(), readParticipantNames(dataDir)]);
      return { participants: directoryEntries(index, names) };
    },
  );

  table.add(
    {
      method: "get",
      path: "/api/participants/:address",
      summary: "One participant's registered name and the proof of it (members only)",
      tag: "participants",
      auth: "session",
      params: z.object({ address: address.describe("The participant's account address") }),
      errors: ERRORS,
    },
    async ({ params, res }) => {
      member(res);
      const [index, names] = await Promise.all([deps.participantReads.one(params.address), readParticipantNames(dataDir)]);
      return directoryEntry(index, names, params.address);
    },
  );
}
