/**
 * Rooms and their tabs are routes: /manufacturer/apply, /lender/portfolio, /court. Back, Forward, a
 * reload and a link keep the room and the tab. The service answers index.html for these paths.
 */
import { useCallback } from "react";
import { useLocation, useNavigate, useParams } from "react-router";
import { ROLE } from "./api";

export type Room = "manufacturer" | "lender" | "court";
/** The rooms in the top bar's order (their names: nav.json, rooms.*). */
export const ROOMS: { id: Room }[] = [{ id: "manufacturer" }, { id: "lender" }, { id: "court" }];

/** The room a participant works in: suppliers in the manufacturer's, lenders in the lender's, others at the court. */
export function homeRoomOf(roles: number): Room {
  if (roles & ROLE.SUPPLIER) return "manufacturer";
  if (roles & ROLE.LENDER) return "lender";
  return "court";
}

/** Whether a participant with `roles` can work in `room` (the court room is open to everyone). */
export function roomFits(room: Room | undefined, roles: number): boolean {
  if (room === "manufacturer") return (roles & ROLE.SUPPLIER) !== 0;
  if (room === "lender") return (roles & ROLE.LENDER) !== 0;
  return room === "court";
}

/** The room of a path ("/lender/portfolio" -> "lender"), if it names one. */
export function roomOfPath(pathname: string): Room | undefined {
  const first = pathname.split("/")[1];
  return ROOMS.find((r) => r.id === first)?.id;
}

/** The links of the hash routes before (#/lender): the same place as a path. */
export function pathOfLegacyHash(hash: string): string | undefined {
  const m = /^#\/([a-z]+)(\/[a-z-]*)?$/.exec(hash);
  return m && ROOMS.some((r) => r.id === m[1]) ? `/${m[1]}${m[2] ?? ""}` : undefined;
}

/**
 * The room's selected tab, from the URL's second segment (`fallback` when absent or unknown), and a
 * setter that moves to the tab's URL as a new history entry.
 */
export function useRouteTab<T extends string>(tabs: readonly T[], fallback: T): [T, (tab: T) => void] {
  const { tab } = useParams();
  const { pathname } = useLocation();
  const navigate = useNavigate();
  const room = pathname.split("/")[1];
  const selected = tabs.find((t) => t === tab) ?? fallback;
  const select = useCallback((next: T) => navigate(`/${room}/${next}`), [navigate, room]);
  return [selected, select];
}
