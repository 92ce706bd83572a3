/**
 * The service's error classes. Routes and use-cases throw these; one express error middleware
 * (owned by the app) maps them to `{ error: { code, message, field? } }` with the status below.
 */
/**
 * The message (always English) as a stable message code with string parameters, for a client that
 * writes it in its own language; a key ending in `Amount` is minor units in `params.currency`.
 */
export interface ErrorText {
  textCode: string;
  params: Record<string, string>;
}

export class ApiError extends Error {
  readonly text?: ErrorText;
  /** Sent as Retry-After: the answer is worth asking again this soon (a retryable refusal). */
  readonly retryAfterSeconds?: number;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown; text?: ErrorText; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.text = options?.text;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
        ...(this.text ? { text: this.text } : {}),
      },
    };
  }
}

export class ValidationError extends ApiError {
  constructor(message: string, field?: string, text?: ErrorText) {
    super(400, "invalid_input", message, field, { text });
  }
}

export class UnauthorizedError extends ApiError {
  constructor(message = "sign in with your wallet first", text: ErrorText = { textCode: "sign_in_first", params: {} }) {
    super(401, "unauthenticated", message, undefined, { text });
  }
}

export class ForbiddenError extends ApiError {
  constructor(message: string, text?: ErrorText) {
    super(403, "forbidden", message, undefined, { text });
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string, text?: ErrorText) {
    super(404, "not_found", message, undefined, { text });
  }
}

export class ConflictError extends ApiError {
  constructor(message: string, field?: string, text?: ErrorText) {
    super(409, "conflict", message, field, { text });
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(message: string, text?: ErrorText) {
    super(413, "payload_too_large", message, undefined, { text });
  }
}

/** A failure talking to the chain; worth retrying. */
export class ChainError extends ApiError {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, "chain_unavailable", message, undefined, options);
  }
}

/**
 * The database (DATABASE_URL) could not be reached or dropped the connection: the request was not
 * acknowledged. (A connection lost during COMMIT leaves its outcome unknown: a retry with the same
 * Idempotency-Key, or a read, tells.)
 */
export class DatabaseUnavailableError extends ApiError {
  constructor(options?: { cause?: unknown }) {
    super(
      503,
      "database_unavailable",
      "the service's database could not be reached; the request was not acknowledged, try again shortly",
      undefined,
      {
        ...options,
        text: { textCode: "database_unavailable", params: {} },
        retryAfterSeconds: 2,
      },
    );
  }
}

/**
 * This process holds no index in memory (SERVICE_ROLE=reader): it serves the reads it can answer from
 * the committed index one enterprise at a time, and refuses the others so a proxy sends them elsewhere.
 */
export class IndexNotHeldError extends ApiError {
  constructor() {
    super(
      503,
      "index_not_held",
      "this service process is a reader (SERVICE_ROLE=reader) and does not hold the index this request needs; an indexing process serves it",
      undefined,
      { text: { textCode: "index_not_held", params: {} } },
    );
  }
}

/** Too many requests from one caller, or too many of one kind in flight; try later. */
export class TooManyRequestsError extends ApiError {
  constructor(message: string, text?: ErrorText) {
    super(429, "rate_limited", message, undefined, { text });
  }
}
