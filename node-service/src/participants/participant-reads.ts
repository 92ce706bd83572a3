/**
 * The participants' registry entries the directory shows (GET /api/participants, /:address), whichever
 * way the process holds the index: in memory (an indexing process), or read from the committed index on
 * each request (a reader process, SERVICE_ROLE=reader): every participant for the list, one by key for
 * one entry. Participants grow with the network's members, not with its events.
 */
import type { Address, IndexState } from "../domain/entities";
import type { PostgresIndexReader } from "../store/postgres/index-reader";

type Participants = Pick<IndexState, "participants">;

export interface ParticipantReads {
  all(): Promise<Participants>;
  /** An index holding `address`'s entry, if it is registered. */
  one(address: Address): Promise<Participants>;
}

export function inMemoryParticipantReads(state: () => IndexState): ParticipantReads {
  return { all: async () => state(), one: async () => state() };
}

export function committedParticipantReads(reader: PostgresIndexReader): ParticipantReads {
  return {
    all: async () => ({ participants: await reader.direct.participants() }),
    one: async (address) => {
      const key = address.toLowerCase();
      const [entry] = await reader.direct.records("participants", [key]);
      return { participants: entry ? { [key]: entry } : {} };
    },
  };
}
