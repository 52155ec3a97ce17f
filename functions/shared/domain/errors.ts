/**
 * Typed domain errors. Services throw these; the one HTTP error mapper turns them into
 * `{error: {code, message, details}}` responses. Anything else becomes a generic 500.
 */
export interface ErrorDetail {
  field: string;
  issue: string;
  [extra: string]: unknown;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details: ErrorDetail[] = [], code = 'VALIDATION_ERROR') {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'missing, unknown or revoked token') {
    super(401, 'UNAUTHORIZED', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(code: 'FORBIDDEN' | 'ADMIN_REQUIRED' | 'CLIENT_INACTIVE' = 'FORBIDDEN', message = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, code: 'NOT_FOUND' | 'AGENT_DELETED' = 'NOT_FOUND') {
    super(404, code, `${what} not found`);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details: ErrorDetail[] = [], options?: { cause?: unknown }) {
    super(409, code, message, details, options);
  }
}

/** A version-checked write lost: the caller's `version` (or If-Match) is stale. */
export class VersionConflictError extends ConflictError {
  constructor(currentVersion: number | undefined, options?: { cause?: unknown }) {
    super(
      'VERSION_CONFLICT',
      'the resource was changed by someone else; reload it and retry',
      [{ field: 'version', issue: 'stale', current_version: currentVersion ?? null }],
      options,
    );
  }
}

/** A business rule refused the request (422 with a specific code). */
export class UnprocessableError extends AppError {
  constructor(code: string, message: string, details: ErrorDetail[] = []) {
    super(422, code, message, details);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`);
  }
}

/**
 * The database cannot do the work now (throttled, unreachable, timed out): nothing about the
 * request is wrong and a retry later may succeed — 503 with `Retry-After`, never a 500.
 */
export class ServiceUnavailableError extends AppError {
  constructor(
    message = 'the database is busy or unreachable; retry later',
    readonly retryAfterSeconds = SERVICE_RETRY_AFTER_SECONDS,
    options?: { cause?: unknown },
  ) {
    super(503, 'SERVICE_UNAVAILABLE', message, [], options);
  }
}

/** What a 503 asks the caller to wait (a throttle or a failover of DynamoDB lasts seconds). */
export const SERVICE_RETRY_AFTER_SECONDS = 2;

/**
 * Re-runs a read-modify-write that lost a version race, when the caller sent no version (API.md
 * §1.4: without one the server retries); with an explicit version the conflict is the answer.
 */
export async function retryOnVersionConflict<T>(explicitVersion: boolean, attempt: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (explicitVersion || !(err instanceof VersionConflictError) || i >= attempts - 1) throw err;
    }
  }
}
