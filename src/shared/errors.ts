/**
 * Base of every expected (operating) error: a stable machine `code`, a message safe to show to the
 * client, and optional `details`. `platform/http/errors.ts` maps each code to one HTTP status.
 * Programmer errors are `AssertionError`s instead (see `assert.ts`) and surface as 500.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The caller is authenticated but may not do this (403). */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
}

/** The resource does not exist or is not the caller's (the two are answered alike). */
export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
}

/** The request conflicts with the current state (a taken username, a repeated key). */
export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
}

/** Input that passed the schema but breaks a business rule on its values. */
export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_ERROR';
}
