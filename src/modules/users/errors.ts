import { DomainError } from '../../shared/errors.js';

/** Usernames are unique case-insensitively: 409. */
export class UsernameTakenError extends DomainError {
  readonly code = 'USERNAME_TAKEN';
  constructor(username: string) {
    super(`username ${username} is already taken`, { username });
  }
}

/** Wrong username or password (the two are answered alike): 401. */
export class InvalidCredentialsError extends DomainError {
  readonly code = 'INVALID_CREDENTIALS';
  constructor() {
    super('wrong username or password');
  }
}

/** Emails are unique case-insensitively among live accounts: 409. */
export class EmailTakenError extends DomainError {
  readonly code = 'EMAIL_TAKEN';
  constructor() {
    super('this email address is already used by another account');
  }
}

/**
 * A password change or an account deletion whose current password is wrong: 403 (the session
 * itself is fine).
 */
export class InvalidCurrentPasswordError extends DomainError {
  readonly code = 'INVALID_CURRENT_PASSWORD';
  constructor() {
    super('the current password is wrong');
  }
}
