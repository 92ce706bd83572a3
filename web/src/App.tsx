/**
 * The shell: three rooms (manufacturer, lender, court), the wallet sign-in, and the shared state
 * (server config, wallet, signed-in participant). Rooms and tabs are routes (./routes.ts); the session
 * cookie is picked up on load, so a reload or a new tab of the same browser stays signed in.
 */
import { lazy, Suspense, useEffect, useState } from "react";
import { BrowserRouter, Link, NavLink, Navigate, Route, Routes, useLocation, useNavigate } from "react-router";
import { api, isUnreachable, type Me, type PublicConfig } from "./api";
import { SessionContext, type Session } from "./hooks/session";
import {
  devWallet,
  forgetWallet,
  hasInjectedWallet,
  injectedWallet,
  rememberedWallet,
  rememberWallet,
  signIn,
  type Wallet,
} from "./wallet";
import { shortHex } from "./format";
import { ErrorBox, Loading } from "./components/ui";
import { LanguageSwitch } from "./i18n/LanguageSwitch";
import { translateKnown, useT } from "./i18n";
import { NotificationBell } from "./components/Notifications";
import { homeRoomOf, pathOfLegacyHash, ROOMS, roomFits, roomOfPath, type Room } from "./routes";

// Each room is its own chunk, fetched when first opened: the first page loads the shell and one room, and
// the court's chain code (evidence verification, timestamps, Merkle proofs) only when the court is opened.
const ManufacturerRoom = lazy(() => import("./rooms/Manufacturer").then((m) => ({ default: m.ManufacturerRoom })));
const LenderRoom = lazy(() => import("./rooms/Lender").then((m) => ({ default: m.LenderRoom })));
const CourtRoom = lazy(() => import("./rooms/Court").then((m) => ({ default: m.CourtRoom })));

export function App() {
  return (
    <BrowserRouter>
      <Shell />
    </BrowserRouter>
  );
}

/** The session as GET /api/auth/session answers it. */
type SessionAnswer = ({ signedIn: true } & Me) | { signedIn: false };

/** The wallet that signed this session in, rebuilt without asking: a dev account by its address, or the injected wallet this tab used. */
async function restoreWallet(config: PublicConfig, me: Me): Promise<Wallet | undefined> {
  const remembered = rememberedWallet();
  if (remembered === "injected") return injectedWallet(config);
  const demo = config.devAccounts ? config.demoAccounts?.find((a) => a.address.toLowerCase() === me.address.toLowerCase()) : undefined;
  return demo ? devWallet(config, demo.index) : undefined;
}

function Shell() {
  const t = useT("common");
  const [config, setConfig] = useState<PublicConfig>();
  const [error, setError] = useState<unknown>();
  const [wallet, setWallet] = useState<Wallet>();
  const [me, setMe] = useState<Me>();
  const [sessionChecked, setSessionChecked] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const room = roomOfPath(pathname);
  const tn = useT("nav");

  useEffect(() => {
    // Links of the hash routes before (#/lender) lead to the same place.
    const legacy = pathOfLegacyHash(window.location.hash);
    if (legacy) navigate(legacy, { replace: true });
  }, []);

  useEffect(() => {
    let live = true;
    setError(undefined);
    (async () => {
      const c = await api<PublicConfig>("/api/config");
      // The session cookie is per browser, not per tab: a reload or a new tab picks it up here.
      const s = await api<SessionAnswer>("/api/auth/session");
      if (!live) return;
      setConfig(c);
      if (s.signedIn) {
        const { signedIn: _, ...m } = s;
        setMe(m);
        const w = await restoreWallet(c, m).catch(() => undefined);
        if (live && w && w.address.toLowerCase() === m.address.toLowerCase()) setWallet(w);
      } else {
        forgetWallet();
      }
      if (live) setSessionChecked(true);
    })().catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
  }, [attempt]);

  useEffect(() => {
    document.title = t("app.title");
  }, [t]);

  if (error) return <Unreachable error={error} onRetry={() => setAttempt((a) => a + 1)} />;
  if (!config || !sessionChecked) return <Loading what={t("app.config")} />;

  const session: Session = { config, wallet, me };
  return (
    <SessionContext.Provider value={session}>
      <header className="top">
        <div className="brand">
          <svg className="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#ffffff" fillOpacity="0.16" />
            <path d="M8 21h16M8 16h16M8 11h16" stroke="#ffffff" strokeWidth="2.5" strokeLinecap="round" />
          </svg>
          <span>
            {t("app.title")}
            <small>{t("app.tagline")}</small>
          </span>
        </div>
        <nav aria-label={tn("rooms.label")}>
          {ROOMS.map((r) => (
            <NavLink key={r.id} to={`/${r.id}`} className={({ isActive }) => (isActive ? "active" : undefined)}>
              {roomName(t, r.id)}
            </NavLink>
          ))}
        </nav>
        <SignIn
          config={config}
          me={me}
          onSignedIn={(w, m) => {
            setWallet(w);
            setMe(m);
            // Into the room of the participant's role, unless the page already is one it works in.
            if (!roomFits(room, m.roles)) navigate(`/${homeRoomOf(m.roles)}`);
          }}
          onSignedOut={() => {
            setWallet(undefined);
            setMe(undefined);
          }}
        />
        {me && me.roles !== 0 && <NotificationBell account={me.address} />}
        <LanguageSwitch />
      </header>
      <main>
        <Suspense fallback={<Loading what={t("app.room")} />}>
          <Routes>
            <Route path="/" element={<Navigate to={`/${me ? homeRoomOf(me.roles) : "manufacturer"}`} replace />} />
            <Route path="/manufacturer/:tab?" element={<ManufacturerRoom />} />
            <Route path="/lender/:tab?" element={<LenderRoom />} />
            <Route path="/court/*" element={<CourtRoom />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
      <footer className="foot">
        {t("app.footer", { chainId: config.chainId, contract: shortHex(config.contracts.LoanAgreements, 4) })}
      </footer>
    </SessionContext.Provider>
  );
}

/** A room's name in the current language: rooms.<id> in the common texts. */
function roomName(t: ReturnType<typeof useT>, room: Room): string {
  if (room === "manufacturer") return t("rooms.manufacturer");
  if (room === "lender") return t("rooms.lender");
  return t("rooms.court");
}

/** The service could not be reached (offline, restarting): say so in words, and offer to try again. */
export function Unreachable({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const tn = useT("nav");
  const offline = isUnreachable(error);
  return (
    <div className="room unreachable" role="alert">
      <h1>{offline ? tn("unreachable.titleOffline") : tn("unreachable.titleError")}</h1>
      <p>{offline ? tn("unreachable.bodyOffline") : (error as { message?: string })?.message}</p>
      <button type="button" className="primary" onClick={onRetry}>
        {tn("retry")}
      </button>
    </div>
  );
}

function NotFound() {
  const t = useT("common");
  const tn = useT("nav");
  return (
    <div className="room">
      <h1>{tn("notFound.title")}</h1>
      <p>{tn("notFound.body")}</p>
      <ul>
        {ROOMS.map((r) => (
          <li key={r.id}>
            <Link to={`/${r.id}`}>{roomName(t, r.id)}</Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

function SignIn({
  config,
  me,
  onSignedIn,
  onSignedOut,
}: {
  config: PublicConfig;
  me?: Me;
  onSignedIn: (w: Wallet, me: Me) => void;
  onSignedOut: () => void;
}) {
  const t = useT("common");
  const role = (r: string) =>
    r
      .split("+")
      .map((one) => translateKnown("common", `roles.${one.toLowerCase()}`, one))
      .join("+");
  const [pick, setPick] = useState<string>("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  async function go(make: () => Promise<Wallet> | Wallet, remember: number | "injected") {
    setBusy(true);
    setError(undefined);
    try {
      const w = await make();
      const m = await signIn(w, config);
      rememberWallet(remember);
      onSignedIn(w, m);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (me) {
    const demo = config.demoAccounts?.find((a) => a.address.toLowerCase() === me.address.toLowerCase());
    return (
      <div role="group" className="signin" aria-label={t("signin.signedIn")}>
        <span className="who">
          {demo ? demo.name : (me.name ?? t("signin.participant"))}
          {demo && <span className="role">{role(demo.role)}</span>} <code>{shortHex(me.address, 4)}</code>
        </span>
        <button
          type="button"
          className="secondary"
          onClick={async () => {
            await api("/api/auth/logout", { method: "POST" }).catch(() => undefined);
            forgetWallet();
            onSignedOut();
          }}
        >
          {t("signin.signOut")}
        </button>
      </div>
    );
  }
  return (
    <div className="signin">
      {config.devAccounts && config.demoAccounts && (
        <>
          <label htmlFor="dev-account" className="dev-label">
            {t("signin.demoAccount")}
          </label>
          <select id="dev-account" value={pick} onChange={(e) => setPick(e.target.value)}>
            <option value="">{t("signin.choose")}</option>
            {config.demoAccounts.map((a) => (
              <option key={a.address} value={String(a.index)}>
                {t("signin.option", { role: role(a.role), name: a.name })}
              </option>
            ))}
          </select>
          <button type="button" disabled={busy || pick === ""} onClick={() => go(() => devWallet(config, Number(pick)), Number(pick))}>
            {t("signin.signIn")}
          </button>
        </>
      )}
      {hasInjectedWallet() && (
        <button type="button" disabled={busy} onClick={() => go(() => injectedWallet(config), "injected")}>
          {t("signin.withWallet")}
        </button>
      )}
      {!config.devAccounts && !hasInjectedWallet() && <span className="hint">{t("signin.installWallet")}</span>}
      <ErrorBox error={error} />
    </div>
  );
}
