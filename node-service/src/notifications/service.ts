/**
 * Notifications per participant (derived: notifications/derive.ts), their "read" marks, and an optional
 * webhook per participant for banks' systems. A webhook delivery is HMAC-SHA256 signed with the
 * participant's secret (shown once, at registration), queued in a durable outbox (stored before anything
 * is sent, and before a registration is acknowledged), retried with exponential backoff, and picked up
 * again after a restart; every attempt lands in the participant's delivery log.
 *
 * Two keyed record stores (store/record-store.ts), one record per participant: its read marks, and its
 * webhook with its outbox and delivery log. In DATA_DIR/notifications (framed journals) or, with
 * DATABASE_URL, in PostgreSQL, where every process serves the same marks and registrations (another
 * process's write reaches this one through LISTEN: `changeHandlers`) and only the process running the
 * jobs (`runsJobs`) puts notifications in the outboxes and delivers them, so each is sent once; after a
 * failover the next one picks the outboxes up. A change is the store's read-modify-write of one record
 * (RecordStore.update: one at a time per record, applied again on another process's newer version).
 */
import { rename } from "node:fs/promises";
import path from "node:path";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Address } from "../domain/entities";
import { toJsonSafe } from "../domain/json";
import { NotFoundError } from "../domain/errors";
import { DurableJSONFile } from "../store/atomic-file";
import type { RecordStore } from "../store/record-store";
import { JournalStore } from "../applications/journal-store";
import type { Database } from "../store/postgres/db";
import type { ChangeHandler } from "../store/postgres/listener";
import { PostgresRecordStore } from "../store/postgres/record-store";
import type { ApplicationRecord } from "../applications/types";
import { notificationsFor, type Notification, type PartyLoans } from "./derive";
import { postWebhook, webhookTargetProblem, webhookUrlProblem, type EgressOptions } from "./egress";

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = "X-SCF-Signature";
export const DELIVERY_HEADER = "X-SCF-Delivery";
/** Read marks and delivery-log entries kept per participant (oldest dropped first). */
const KEEP_READ = 2000;
const KEEP_LOG = 200;
const KEEP_ENQUEUED = 5000;
/** How often webhooks are checked for notifications that time alone brought (due soon, overdue). */
export const TIME_CHECK_MS = 5_000;

export interface NotificationsDeps {
  dataDir: string;
  /** PostgreSQL (DATABASE_URL) for the marks and webhooks instead of DATA_DIR/notifications. */
  db?: Database;
  /** Several processes on one database: true in the one that enqueues and delivers (default: always). */
  runsJobs?: () => boolean;
  /** The party's loans (from the index in memory, or on a reader from the committed index). */
  loansOf: (party: Address) => Promise<PartyLoans>;
  /** The applications `party` borrows or lends in. */
  applications: (party: Address) => readonly ApplicationRecord[];
  /** Block time now (seconds). */
  now: () => Promise<number>;
  dueSoonDays: number;
  /** First retry after this many ms, doubling up to an hour. */
  retryBaseMs: number;
  /** Attempts before a delivery is given up (logged as such). */
  maxAttempts: number;
  /** Timeout of one delivery attempt. */
  timeoutMs?: number;
  /** Deliveries may go to loopback addresses (WEBHOOK_ALLOW_LOOPBACK; tests only). */
  allowLoopback: boolean;
  logger?: Pick<Logger, "warn" | "error">;
}

interface Hook {
  url: string;
  secret: string;
  createdAt: number;
  /** Notification ids already put in the outbox (or present at registration): each is delivered once. */
  enqueued: string[];
}

interface Delivery {
  id: string;
  party: Address;
  notificationId: string;
  url: string;
  body: string;
  attempts: number;
  /** Wall-clock ms of the next attempt. */
  nextAt: number;
  createdAt: number;
}

export interface DeliveryLogEntry {
  deliveryId: string;
  notificationId: string;
  url: string;
  attempt: number;
  /** ISO 8601 wall-clock time. */
  at: string;
  outcome: "delivered" | "failed" | "gave_up";
  status?: number;
  error?: string;
  nextAttemptAt?: string;
}

/** A participant's read marks (record kind `notification-reads`). */
interface ReadMarks {
  id: Address;
  ids: string[];
}

/** A participant's webhook, its outbox and delivery log (record kind `webhooks`); `hook` null once deleted. */
interface WebhookRecord {
  id: Address;
  hook: Hook | null;
  outbox: Delivery[];
  log: DeliveryLogEntry[];
}

/** What DATA_DIR/notifications/notifications.json held before the marks and webhooks became records. */
interface LegacyFile {
  read?: Record<string, string[]>;
  hooks?: Record<string, Hook>;
  outbox?: Delivery[];
  log?: Record<string, DeliveryLogEntry[]>;
}

const READS = "notification-reads";
const WEBHOOKS = "webhooks";

/** The signature a receiver recomputes: HMAC-SHA256(secret, `${t}.${body}`) in hex. */
export function signPayload(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
}

export class NotificationService {
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private delivering = false;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();

  private constructor(
    private readonly deps: NotificationsDeps,
    private readonly reads: RecordStore<ReadMarks>,
    private readonly webhooks: RecordStore<WebhookRecord>,
  ) {}

  static async open(deps: NotificationsDeps): Promise<NotificationService> {
    const dir = path.join(deps.dataDir, "notifications");
    const warn = deps.logger ? (message: string) => deps.logger!.warn(message) : undefined;
    const [reads, webhooks] = deps.db
      ? await Promise.all([PostgresRecordStore.open<ReadMarks>(deps.db, READS), PostgresRecordStore.open<WebhookRecord>(deps.db, WEBHOOKS)])
      : await Promise.all([
          JournalStore.open<ReadMarks>(dir, "reads", { warn }),
          JournalStore.open<WebhookRecord>(dir, "webhooks", { warn }),
        ]);
    const service = new NotificationService(deps, reads, webhooks);
    await service.importLegacyFile(path.join(dir, "notifications.json"));
    return service;
  }

  /**
   * Takes over what an earlier version kept in one file (marks, webhooks, outbox, log), for each
   * participant the stores do not know yet, then renames the file `notifications.json.imported`. A
   * crash before the rename imports the same again at the next start.
   */
  private async importLegacyFile(file: string): Promise<void> {
    const legacy = await new DurableJSONFile<LegacyFile>(file).read();
    if (!legacy) return;
    for (const [party, ids] of Object.entries(legacy.read ?? {}) as [Address, string[]][])
      if (!this.reads.get(party)) await this.reads.put({ id: party, ids });
    const parties = new Set([...Object.keys(legacy.hooks ?? {}), ...Object.keys(legacy.log ?? {})] as Address[]);
    for (const party of parties)
      if (!this.webhooks.get(party))
        await this.webhooks.put({
          id: party,
          hook: legacy.hooks?.[party] ?? null,
          outbox: (legacy.outbox ?? []).filter((d) => d.party === party),
          log: legacy.log?.[party] ?? [],
        });
    await rename(file, `${file}.imported`);
  }

  /** Starts delivering the outbox (what a previous run left included) and checking for new notifications. */
  start(): void {
    this.schedule(0);
    // Time passing alone makes a loan due soon or overdue.
    this.ticker = setInterval(
      () => void this.sync().catch((err: unknown) => this.deps.logger?.error({ err }, "notifications sync failed")),
      TIME_CHECK_MS,
    );
    this.ticker.unref?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([this.reads.close(), this.webhooks.close()]);
  }

  /**
   * What another process writes reaches this one (PostgreSQL only): each kind's record is read again;
   * a changed webhook is synced at once by the process running the jobs.
   */
  changeHandlers(): Record<string, ChangeHandler> {
    const { reads, webhooks } = this;
    if (!(reads instanceof PostgresRecordStore) || !(webhooks instanceof PostgresRecordStore)) return {};
    const afterWebhooks = () => void this.sync().catch((err: unknown) => this.deps.logger?.error({ err }, "notifications sync failed"));
    return {
      [READS]: { changed: async (id, tag) => void (await reads.refresh(id, tag)), resync: async () => void (await reads.reload()) },
      [WEBHOOKS]: {
        changed: async (id, tag) => {
          if (await webhooks.refresh(id, tag)) afterWebhooks();
        },
        resync: async () => {
          await webhooks.reload();
          afterWebhooks();
        },
      },
    };
  }

  private runsJobs(): boolean {
    return this.deps.runsJobs?.() ?? true;
  }

  private async current(party: Address): Promise<Notification[]> {
    return notificationsFor(party, this.deps.applications(party), await this.deps.loansOf(party), {
      asOf: await this.deps.now(),
      dueSoonDays: this.deps.dueSoonDays,
    });
  }

  async list(party: Address): Promise<{ unread: number; items: (ReturnType<typeof toJsonSafe> & object)[] }> {
    const items = await this.current(party);
    const read = new Set(this.reads.get(party)?.ids ?? []);
    return {
      unread: items.filter((n) => !read.has(n.id)).length,
      items: items.map((n) => toJsonSafe({ ...n, read: read.has(n.id) }) as object),
    };
  }

  /** Marks `ids` (or every current notification) read; answers once the marks are stored. */
  async markRead(party: Address, ids: string[] | "all"): Promise<void> {
    const current = (await this.current(party)).map((n) => n.id);
    const known = new Set(current);
    const chosen = ids === "all" ? current : ids.filter((id) => known.has(id));
    await this.reads.update(party, (marks) => {
      const read = new Set(marks?.ids ?? []);
      for (const id of chosen) read.add(id);
      return { id: party, ids: [...read].slice(-KEEP_READ) };
    });
  }

  private get egress(): EgressOptions {
    return { allowLoopback: this.deps.allowLoopback };
  }

  /** Why `url` cannot be a webhook, without the network (for input validation), or null. */
  urlProblem(url: string): string | null {
    return webhookUrlProblem(url, this.egress);
  }

  /** Why `url` cannot be a webhook now, its host resolved and every address checked, or null. */
  targetProblem(url: string): Promise<string | null> {
    return webhookTargetProblem(url, this.egress);
  }

  webhookOf(party: Address): { url: string; createdAt: number } | null {
    const hook = this.webhooks.get(party)?.hook;
    return hook ? { url: hook.url, createdAt: hook.createdAt } : null;
  }

  /**
   * Registers (or replaces) the participant's webhook with a new secret, returned only here. What is
   * already notified counts as known: only later notifications are delivered. The previous webhook's
   * pending deliveries are dropped.
   */
  async setWebhook(party: Address, url: string): Promise<{ url: string; secret: string; createdAt: number }> {
    const current = await this.current(party);
    const hook: Hook = {
      url,
      secret: randomBytes(32).toString("hex"),
      createdAt: Math.floor(Date.now() / 1000),
      enqueued: current.map((n) => n.id),
    };
    await this.webhooks.update(party, (rec) => ({ id: party, hook, outbox: [], log: rec?.log ?? [] }));
    return { url: hook.url, secret: hook.secret, createdAt: hook.createdAt };
  }

  async deleteWebhook(party: Address): Promise<void> {
    const deleted = await this.webhooks.update(party, (rec) => (rec?.hook ? { ...rec, hook: null, outbox: [] } : null));
    if (!deleted) throw new NotFoundError("no webhook registered", { textCode: "no_webhook", params: {} });
  }

  deliveries(party: Address): { pending: number; log: DeliveryLogEntry[] } {
    const rec = this.webhooks.get(party);
    return { pending: rec?.outbox.length ?? 0, log: [...(rec?.log ?? [])].reverse() };
  }

  /**
   * Puts every new notification of a participant with a webhook in its outbox (stored), then delivers
   * what is due (a process that just took over the jobs: what the outboxes hold). Only in the process
   * running the jobs, so two processes never both enqueue one notification.
   */
  async sync(): Promise<void> {
    if (this.closed || !this.runsJobs()) return;
    const parties = this.webhooks.where((r) => r.hook !== null).map((r) => r.id);
    if (parties.length === 0) return;
    const asOf = await this.deps.now();
    for (const party of parties) {
      const loans = await this.deps.loansOf(party);
      const notifications = notificationsFor(party, this.deps.applications(party), loans, { asOf, dueSoonDays: this.deps.dueSoonDays });
      await this.webhooks.update(party, (rec) => {
        if (!rec?.hook) return null;
        const known = new Set(rec.hook.enqueued);
        const fresh = notifications.filter((n) => !known.has(n.id));
        if (fresh.length === 0) return null;
        const enqueued = [...rec.hook.enqueued, ...fresh.map((n) => n.id)].slice(-KEEP_ENQUEUED);
        return {
          ...rec,
          hook: { ...rec.hook, enqueued },
          outbox: [...rec.outbox, ...fresh.map((n) => this.delivery(party, rec.hook!.url, n))],
        };
      });
    }
    if (!this.delivering) this.schedule(0);
  }

  private delivery(party: Address, url: string, n: Notification): Delivery {
    const id = randomUUID();
    return {
      id,
      party,
      notificationId: n.id,
      url,
      body: JSON.stringify({ type: "notification", deliveryId: id, notification: toJsonSafe(n) }),
      attempts: 0,
      nextAt: Date.now(),
      createdAt: Math.floor(Date.now() / 1000),
    };
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.deliverDue(), ms);
    this.timer.unref?.();
  }

  private pending(): Delivery[] {
    return this.webhooks.where((r) => r.outbox.length > 0).flatMap((r) => r.outbox);
  }

  private async deliverDue(): Promise<void> {
    if (this.delivering || this.closed || !this.runsJobs()) return;
    this.delivering = true;
    try {
      const now = Date.now();
      for (const d of this.pending().filter((x) => x.nextAt <= now)) {
        if (this.closed || !this.runsJobs()) break;
        const run = this.attempt(d);
        this.inFlight.add(run);
        await run.finally(() => this.inFlight.delete(run));
      }
    } catch (err) {
      this.deps.logger?.error({ err }, "webhook delivery loop failed");
    } finally {
      this.delivering = false;
      const next = Math.min(...this.pending().map((d) => d.nextAt), Date.now() + 60_000);
      this.schedule(Math.max(0, next - Date.now()));
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    const hook = this.webhooks.get(d.party)?.hook;
    if (!hook || hook.url !== d.url) {
      await this.webhooks.update(d.party, (rec) =>
        rec?.outbox.some((x) => x.id === d.id) ? { ...rec, outbox: rec.outbox.filter((x) => x.id !== d.id) } : null,
      );
      return;
    }
    const attempts = d.attempts + 1;
    const t = Math.floor(Date.now() / 1000);
    let status: number | undefined;
    let error: string | undefined;
    try {
      // Checked again here (DNS may have changed since registration) and connected to the checked address.
      status = await postWebhook(
        d.url,
        {
          "content-type": "application/json",
          [DELIVERY_HEADER]: d.id,
          [SIGNATURE_HEADER]: `t=${t},v1=${signPayload(hook.secret, t, d.body)}`,
        },
        d.body,
        this.deps.timeoutMs ?? 10_000,
        this.egress,
      );
    } catch (err) {
      error = (err as Error).message;
    }
    const ok = status !== undefined && status >= 200 && status < 300;
    const entry: DeliveryLogEntry = {
      deliveryId: d.id,
      notificationId: d.notificationId,
      url: d.url,
      attempt: attempts,
      at: new Date().toISOString(),
      outcome: ok ? "delivered" : attempts >= this.deps.maxAttempts ? "gave_up" : "failed",
      ...(status !== undefined ? { status } : {}),
      ...(error ? { error } : {}),
    };
    const nextAt = Date.now() + Math.min(this.deps.retryBaseMs * 2 ** (attempts - 1), 3_600_000);
    if (entry.outcome === "failed") entry.nextAttemptAt = new Date(nextAt).toISOString();
    if (entry.outcome === "gave_up") this.deps.logger?.warn({ delivery: d.id, url: d.url }, "webhook delivery given up");
    // The attempt is logged even when the webhook was replaced meanwhile (its outbox is then gone).
    await this.webhooks.update(d.party, (rec) => {
      const base = rec ?? { id: d.party, hook: null, outbox: [], log: [] };
      const outbox =
        entry.outcome === "failed"
          ? base.outbox.map((x) => (x.id === d.id ? { ...x, attempts, nextAt } : x))
          : base.outbox.filter((x) => x.id !== d.id);
      return { ...base, outbox, log: [...base.log, entry].slice(-KEEP_LOG) };
    });
  }
}
