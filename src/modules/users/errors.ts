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
