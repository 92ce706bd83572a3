/**
 * /api/notifications and /api/webhook: a participant's in-app notifications (derived from its
 * applications and loans) with read marks, and its optional webhook (URL, a secret shown once, the
 * delivery log). Every route needs a session of a registered participant and acts on that participant
 * only.
 */
import { z } from "zod";
import type { NotificationService } from "../../notifications/service";
import { ValidationError } from "../../domain/errors";
import type { RouteModule } from "../app";
import { requireRole, requireSession } from "../authorize";

const ReadBody = z.union([
  z.object({ all: z.literal(true).describe("Mark every current notification read") }),
  z.object({ ids: z.array(z.string().min(1).max(200)).min(1).max(500).describe("Notification ids to mark read") }),
]);
export function notificationRoutes(service: NotificationService): RouteModule {
  return ({ table }) => {
    const tag = "notifications";
    const WebhookBody = z.object({
      url: z
        .string()
        .max(2000)
        .superRefine((v, ctx) => {
          const problem = service.urlProblem(v);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        })
        .describe("Where deliveries are POSTed: https to a host with public addresses only (checked again at each delivery)"),
    });
    const participant = (res: Parameters<typeof requireSession>[0]) => {
      const session = requireSession(res);
      requireRole(session, 0, { operatorAllowed: false });
      return session.address;
    };

    table.add(
      {
        method: "get",
        path: "/api/notifications",
        summary: "The caller's notifications (steps waiting on it, due soon, overdue), newest first, with the unread count",
        tag,
        auth: "session",
        errors: [401, 403],
      },
      ({ res }) => service.list(participant(res)),
    );

    table.add(
      {
        method: "post",
        path: "/api/notifications/read",
        summary: "Marks notifications read (given ids, or all); answered once the marks are on disk",
        tag,
        auth: "session",
        body: ReadBody,
        errors: [400, 401, 403],
      },
      async ({ body, res }) => {
        const party = participant(res);
        await service.markRead(party, "all" in body ? "all" : body.ids);
        return { unread: (await service.list(party)).unread };
      },
    );

    table.add(
      {
        method: "get",
        path: "/api/webhook",
        summary: "The caller's webhook (URL and since when; never the secret)",
        tag,
        auth: "session",
        errors: [401, 403],
      },
      ({ res }) => ({ webhook: service.webhookOf(participant(res)) }),
    );

    table.add(
      {
        method: "put",
        path: "/api/webhook",
        summary: "Registers or replaces the caller's webhook; the answer carries the HMAC secret, shown this once",
        tag,
        auth: "session",
        body: WebhookBody,
        errors: [400, 401, 403],
      },
      async ({ body, res }) => {
        const party = participant(res);
        // Resolved only for a participant: what the host resolves to now must be public too.
        const problem = await service.targetProblem(body.url);
        if (problem) throw new ValidationError(`url: ${problem}`, "url", { textCode: "webhook_url_refused", params: { problem } });
        const hook = await service.setWebhook(party, body.url);
        res.status(201);
        return hook;
      },
    );

    table.add(
      {
        method: "delete",
        path: "/api/webhook",
        summary: "Removes the caller's webhook and its pending deliveries",
        tag,
        auth: "session",
        errors: [401, 403, 404],
      },
      async ({ res }) => {
        await service.deleteWebhook(participant(res));
        return { deleted: true };
      },
    );

    table.add(
      {
        method: "get",
        path: "/api/webhook/deliveries",
        summary: "The caller's webhook delivery log (newest first) and how many deliveries are pending",
        tag,
        auth: "session",
        errors: [401, 403],
      },
      ({ res }) => service.deliveries(participant(res)),
    );
  };
}
