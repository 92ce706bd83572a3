/**
 * Notifications per participant (derived: notifications/derive.ts), their "read" marks, and an optional
 * webhook per participant for banks' systems. A webhook delivery is HMAC-SHA256 signed with the
 * participant's secret (shown once, at registration), queued in a durable outbox (written with fsync and
 * rename before anything is sent, and before a registration is acknowledged), retried with exponential
 * backoff, and picked up again after a restart; every attempt lands in the participant's delivery log.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Address, IndexState } from "../domain/entities";
import { toJsonSafe } from "../domain/json";
import { NotFoundError } from "../domain/errors";
import { DurableJSONFile } from "../store/atomic-file";
import type { ApplicationRecord } from "../applications/types";
import { notificationsFor, type Notification } from "./derive";
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
  state: () => IndexState;
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

interface StateFile {
  read: Record<string, string[]>;
  hooks: Record<string, Hook>;
  outbox: Delivery[];
  log: Record<string, DeliveryLogEntry[]>;
}

/** The signature a receiver recomputes: HMAC-SHA256(secret, `${t}.${body}`) in hex. */
export function signPayload(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
}

export class NotificationService {
  private data: StateFile = { read: {}, hooks: {}, outbox: [], log: {} };
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private delivering = false;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();

  private constructor(
    private readonly deps: NotificationsDeps,
    private readonly file: DurableJSONFile<StateFile>,
  ) {}

  static async open(deps: NotificationsDeps): Promise<NotificationService> {
    const dir = path.join(deps.dataDir, "notifications");
    await mkdir(dir, { recursive: true });
    const file = new DurableJSONFile<StateFile>(path.join(dir, "notifications.json"));
    const service = new NotificationService(deps, file);
    const stored = await file.read();
    if (stored) service.data = { read: stored.read ?? {}, hooks: stored.hooks ?? {}, outbox: stored.outbox ?? [], log: stored.log ?? {} };
    return service;
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
    await this.writing;
  }

  /** Serialized durable write of the whole state (small: marks, hooks, pending deliveries, recent log). */
  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.data);
    const next = this.writing.then(() => this.file.write(JSON.parse(snapshot) as StateFile));
    this.writing = next.catch(() => undefined);
    return next;
  }

  async list(party: Address): Promise<{ unread: number; items: (ReturnType<typeof toJsonSafe> & object)[] }> {
    const items = notificationsFor(party, this.deps.applications(party), this.deps.state(), {
      asOf: await this.deps.now(),
      dueSoonDays: this.deps.dueSoonDays,
    });
    const read = new Set(this.data.read[party] ?? []);
    return {
      unread: items.filter((n) => !read.has(n.id)).length,
      items: items.map((n) => toJsonSafe({ ...n, read: read.has(n.id) }) as object),
    };
  }

  /** Marks `ids` (or every current notification) read; answers once the marks are on disk. */
  async markRead(party: Address, ids: string[] | "all"): Promise<void> {
    const current = notificationsFor(party, this.deps.applications(party), this.deps.state(), {
      asOf: await this.deps.now(),
      dueSoonDays: this.deps.dueSoonDays,
    }).map((n) => n.id);
    const known = new Set(current);
    const chosen = ids === "all" ? current : ids.filter((id) => known.has(id));
    const read = new Set(this.data.read[party] ?? []);
    for (const id of chosen) read.add(id);
    this.data.read[party] = [...read].slice(-KEEP_READ);
    await this.save();
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
    const hook = this.data.hooks[party];
    return hook ? { url: hook.url, createdAt: hook.createdAt } : null;
  }

  /**
   * Registers (or replaces) the participant's webhook with a new secret, returned only here. What is
   * already notified counts as known: only later notifications are delivered.
   */
  async setWebhook(party: Address, url: string): Promise<{ url: string; secret: string; createdAt: number }> {
    const current = notificationsFor(party, this.deps.applications(party), this.deps.state(), {
      asOf: await this.deps.now(),
      dueSoonDays: this.deps.dueSoonDays,
    });
    const hook: Hook = {
      url,
      secret: randomBytes(32).toString("hex"),
      createdAt: Math.floor(Date.now() / 1000),
      enqueued: current.map((n) => n.id),
    };
    this.data.hooks[party] = hook;
    this.data.outbox = this.data.outbox.filter((d) => d.party !== party);
    await this.save();
    return { url: hook.url, secret: hook.secret, createdAt: hook.createdAt };
  }

  async deleteWebhook(party: Address): Promise<void> {
    if (!this.data.hooks[party]) throw new NotFoundError("no webhook registered", { textCode: "no_webhook", params: {} });
    delete this.data.hooks[party];
    this.data.outbox = this.data.outbox.filter((d) => d.party !== party);
    await this.save();
  }

  deliveries(party: Address): { pending: number; log: DeliveryLogEntry[] } {
    return {
      pending: this.data.outbox.filter((d) => d.party === party).length,
      log: [...(this.data.log[party] ?? [])].reverse(),
    };
  }

  /** Puts every new notification of a participant with a webhook in the outbox (durably), then delivers. */
  async sync(): Promise<void> {
    if (this.closed) return;
    const parties = Object.keys(this.data.hooks) as Address[];
    if (parties.length === 0) return;
    const asOf = await this.deps.now();
    const state = this.deps.state();
    let added = 0;
    for (const party of parties) {
      const hook = this.data.hooks[party];
      const known = new Set(hook.enqueued);
      for (const n of notificationsFor(party, this.deps.applications(party), state, { asOf, dueSoonDays: this.deps.dueSoonDays })) {
        if (known.has(n.id)) continue;
        hook.enqueued.push(n.id);
        this.data.outbox.push(this.delivery(party, hook.url, n));
        added++;
      }
      hook.enqueued = hook.enqueued.slice(-KEEP_ENQUEUED);
    }
    if (added === 0) return;
    await this.save();
    this.schedule(0);
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

  private async deliverDue(): Promise<void> {
    if (this.delivering || this.closed) return;
    this.delivering = true;
    try {
      const now = Date.now();
      for (const d of this.data.outbox.filter((x) => x.nextAt <= now)) {
        if (this.closed) break;
        const run = this.attempt(d);
        this.inFlight.add(run);
        await run.finally(() => this.inFlight.delete(run));
      }
    } catch (err) {
      this.deps.logger?.error({ err }, "webhook delivery loop failed");
    } finally {
      this.delivering = false;
      const next = Math.min(...this.data.outbox.map((d) => d.nextAt), Date.now() + 60_000);
      this.schedule(Math.max(0, next - Date.now()));
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    const hook = this.data.hooks[d.party];
    if (!hook || hook.url !== d.url) {
      this.data.outbox = this.data.outbox.filter((x) => x.id !== d.id);
      return this.save();
    }
    d.attempts++;
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
      attempt: d.attempts,
      at: new Date().toISOString(),
      outcome: ok ? "delivered" : d.attempts >= this.deps.maxAttempts ? "gave_up" : "failed",
      ...(status !== undefined ? { status } : {}),
      ...(error ? { error } : {}),
    };
    if (entry.outcome === "failed") {
      d.nextAt = Date.now() + Math.min(this.deps.retryBaseMs * 2 ** (d.attempts - 1), 3_600_000);
      entry.nextAttemptAt = new Date(d.nextAt).toISOString();
    } else {
      this.data.outbox = this.data.outbox.filter((x) => x.id !== d.id);
    }
    if (entry.outcome === "gave_up") this.deps.logger?.warn({ delivery: d.id, url: d.url }, "webhook delivery given up");
    this.data.log[d.party] = [...(this.data.log[d.party] ?? []), entry].slice(-KEEP_LOG);
    await this.save();
  }
}
