/**
 * The shell: three rooms (manufacturer, lender, court), the wallet sign-in, and the shared state
 * (server config, wallet, signed-in participant). Routing by URL hash keeps the server a static host.
 */
import { useEffect, useState } from "react";
import { api, type Me, type PublicConfig } from "./api";
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
import { ManufacturerRoom } from "./rooms/Manufacturer";
import { LenderRoom } from "./rooms/Lender";
import { CourtRoom } from "./rooms/Court";

type Room = "manufacturer" | "lender" | "court";
/** The rooms; each one's name is rooms.<id> in the common texts. */
const ROOMS: { id: Room }[] = [{ id: "manufacturer" }, { id: "lender" }, { id: "court" }];

function roomFromHash(): Room {
  const h = window.location.hash.replace(/^#\/?/, "").split("/")[0];
  return (ROOMS.find((r) => r.id === h)?.id ?? "manufacturer") as Room;
}

export function App() {
  const t = useT("common");
  const [config, setConfig] = useState<PublicConfig>();
  const [error, setError] = useState<unknown>();
  const [room, setRoom] = useState<Room>(roomFromHash());
  const [wallet, setWallet] = useState<Wallet>();
  const [me, setMe] = useState<Me>();

  useEffect(() => {
    api<PublicConfig>("/api/config").then(async (c) => {
      setConfig(c);
      // A reload keeps the session cookie but loses the wallet: restore both when this tab signed in
      // before (asking /me without a session would only answer 401).
      const remembered = rememberedWallet();
      if (!remembered) return;
      try {
        const w = remembered === "injected" ? await injectedWallet(c) : c.devAccounts ? devWallet(c, remembered) : undefined;
        const m = await api<Me>("/api/auth/me");
        if (w && w.address.toLowerCase() === m.address.toLowerCase()) setWallet(w);
        setMe(m);
      } catch {
        forgetWallet();
      }
    }, setError);
    const onHash = () => setRoom(roomFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    document.title = t("app.title");
  }, [t]);

  if (error) return <ErrorBox error={error} />;
  if (!config) return <Loading what={t("app.config")} />;

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
        <nav aria-label={t("app.rooms")}>
          {ROOMS.map((r) => (
            <a
              key={r.id}
              href={`#/${r.id}`}
              className={room === r.id ? "active" : undefined}
              aria-current={room === r.id ? "page" : undefined}
            >
              {t(`rooms.${r.id}`)}
            </a>
          ))}
        </nav>
        <SignIn
          config={config}
          me={me}
          onSignedIn={(w, m) => {
            setWallet(w);
            setMe(m);
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
        {room === "manufacturer" && <ManufacturerRoom />}
        {room === "lender" && <LenderRoom />}
        {room === "court" && <CourtRoom />}
      </main>
      <footer className="foot">
        {t("app.footer", { chainId: config.chainId, contract: shortHex(config.contracts.LoanAgreements, 4) })}
      </footer>
    </SessionContext.Provider>
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
      <div className="signin" aria-label={t("signin.signedIn")}>
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
