/**
 * Routes are declared once, with their zod schemas: the same declaration validates the request, names
 * the route in logs and latency metrics, and produces the OpenAPI description, so the description can
 * never miss a route. Handlers stay thin: they get parsed input and return JSON-safe data (or respond
 * themselves and return undefined).
 */
import type { Request, Response, Router } from "express";
import { z } from "zod";
import { toJsonSafe } from "../domain/json";
import { UnauthorizedError } from "../domain/errors";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

export interface RouteSpec {
  method: HttpMethod;
  /** Express path, e.g. "/api/enterprises/:address/metrics". */
  path: string;
  summary: string;
  tag: string;
  /**
   * "session": needs a SIWE session (cookie or bearer token); "session-or-scraper": that, or a scraper's
   * METRICS_TOKEN (recognised in app.ts, for /metrics only).
   */
  auth: "public" | "session" | "session-or-scraper";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Statuses the route answers besides 200 (each with the error body). */
  errors?: number[];
  /** Response content type when not JSON (e.g. Prometheus text). */
  produces?: string;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  req: Request;
  res: Response;
}

export class RouteTable {
  readonly specs: RouteSpec[] = [];

  constructor(readonly router: Router) {}

  /** Documents a route served by a plain express router mounted elsewhere, so OpenAPI still lists it. */
  describe(spec: RouteSpec): void {
    this.specs.push(spec);
  }

  add<P extends z.ZodObject = z.ZodObject, Q extends z.ZodObject = z.ZodObject, B extends z.ZodType = z.ZodUnknown>(
    spec: RouteSpec & { params?: P; query?: Q; body?: B },
    handler: (input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>) => unknown,
  ): void {
    this.specs.push(spec);
    this.router[spec.method](spec.path, async (req: Request, res: Response) => {
      res.locals.route = `${spec.method.toUpperCase()} ${spec.path}`;
      // No session, no answer about the input either: 401 comes before any validation.
      if (spec.auth !== "public" && !res.locals.session && !(spec.auth === "session-or-scraper" && res.locals.metricsScraper === true))
        throw new UnauthorizedError();
      // Parse errors (ZodError) go to the error middleware, which names the field.
      const params = (spec.params ? spec.params.parse(req.params) : req.params) as z.output<P>;
      const query = (spec.query ? spec.query.parse(req.query) : req.query) as z.output<Q>;
      const body = (spec.body ? spec.body.parse(req.body ?? {}) : req.body) as z.output<B>;
      const result = await handler({ params, query, body, req, res });
      if (result !== undefined && !res.headersSent) res.json(toJsonSafe(result));
    });
  }
}

const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        field: { type: "string", description: "The offending input, when there is one." },
      },
    },
  },
};

const STATUS_TEXT: Record<number, string> = {
  400: "Invalid input (the field is named)",
  401: "No valid session",
  403: "Not allowed for this caller (role or consent)",
  404: "Not found",
  409: "Conflict",
  413: "Request body too large",
  429: "Too many requests",
  503: "Unavailable (chain, indexer or, on PostgreSQL, the database; retryable)",
  507: "Not stored: the service's disk is full (nothing was recorded; retry later)",
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

/** OpenAPI 3.1 (JSON Schema 2020-12, which is what z.toJSONSchema emits) for every declared route. */
export function openApiDocument(specs: RouteSpec[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const oaPath = spec.path.replace(/:(\w+)/g, "{$1}");
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ["path", spec.params],
      ["query", spec.query],
    ] as const) {
      if (!schema) continue;
      for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
        const fieldSchema = jsonSchema(field);
        parameters.push({
          name,
          in: where,
          required: where === "path" || !field.safeParse(undefined).success,
          ...(fieldSchema.description ? { description: fieldSchema.description } : {}),
          schema: fieldSchema,
        });
      }
    }
    const responses: Record<string, unknown> = {
      200: {
        description: "OK",
        content: { [spec.produces ?? "application/json"]: { schema: spec.produces ? { type: "string" } : {} } },
      },
    };
    for (const status of spec.errors ?? []) {
      responses[status] = {
        description: STATUS_TEXT[status] ?? "Error",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
    (paths[oaPath] ??= {})[spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(spec.body) } } } } : {}),
      ...(spec.auth === "session" ? { security: [{ sessionCookie: [] }, { bearer: [] }] } : {}),
      ...(spec.auth === "session-or-scraper" ? { security: [{ sessionCookie: [] }, { bearer: [] }, { metricsToken: [] }] } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info,
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        sessionCookie: { type: "apiKey", in: "cookie", name: "scf_session" },
        bearer: { type: "http", scheme: "bearer", description: "The token returned by POST /api/auth/verify" },
        metricsToken: { type: "http", scheme: "bearer", description: "The service's METRICS_TOKEN (a Prometheus scraper; /metrics only)" },
      },
    },
  };
}
