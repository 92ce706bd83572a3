/**
 * The service's error classes. Routes and use-cases throw these; one express error middleware
 * (owned by the app) maps them to `{ error: { code, message, field? } }` with the status below.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export class ValidationError extends ApiError {
  constructor(message: string, field?: string) {
    super(400, "invalid_input", message, field);
  }
}

export class UnauthorizedError extends ApiError {
  constructor(message = "sign in with your wallet first") {
    super(401, "unauthenticated", message);
  }
}

export class ForbiddenError extends ApiError {
  constructor(message: string) {
    super(403, "forbidden", message);
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string) {
    super(404, "not_found", message);
  }
}

export class ConflictError extends ApiError {
  constructor(message: string, field?: string) {
    super(409, "conflict", message, field);
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(message: string) {
    super(413, "payload_too_large", message);
  }
}

/** A failure talking to the chain; worth retrying. */
export class ChainError extends ApiError {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, "chain_unavailable", message, undefined, options);
  }
}

/** Too many requests from one caller, or too many of one kind in flight; try later. */
export class TooManyRequestsError extends ApiError {
  constructor(message: string) {
    super(429, "rate_limited", message);
  }
}
