import { randomUUID, webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { type Principal, UnauthorizedError } from '../../platform/http/auth-guard.js';
import type { Clock } from '../../shared/clock.js';

const ALGORITHM = 'HS256';
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Verified tokens remembered by one process at most (the memory is emptied when full). */
const VERIFIED_TOKENS_MAX = 10_000;

/** A signed access token and how long it lives. */
export interface AccessToken {
  token: string;
  expiresInSeconds: number;
}

/**
 * Issues and verifies HS256 access tokens (jose). The algorithm is pinned on verification, so a
 * token with `alg: none` or another algorithm is refused; `exp` is always checked.
 */
export class TokenService {
  private readonly secret: Uint8Array;
  /** The HMAC key, imported once rather than by every signature and verification. */
  private key: Promise<webcrypto.CryptoKey> | undefined;
  /**
   * Tokens whose signature and claims were verified, with what they say and when they expire (ms):
   * a client sends the same token with each request until it expires, and the exact same bytes
   * verify the same way. Revocation is checked on every request all the same (`SessionService`).
   */
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  /** @param secret at least 32 characters; @param accessTtlSeconds lifetime of an access token */
  constructor(
    secret: string,
    private readonly accessTtlSeconds: number,
    private readonly clock: Clock,
  ) {
    this.secret = new TextEncoder().encode(secret);
  }

  /** Signs an access token for `principal`: `sub` = user id, `role`, `sid` = session id, `jti`, `iat`, `exp`. */
  async issueAccessToken(principal: Principal): Promise<AccessToken> {
    const nowSeconds = Math.floor(this.clock.nowMs() / 1000);
    const token = await new SignJWT({ role: principal.role, sid: principal.sessionId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(principal.userId)
      .setJti(randomUUID())
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + this.accessTtlSeconds)
      .sign(await this.hmacKey());
    return { token, expiresInSeconds: this.accessTtlSeconds };
  }

  /**
   * Verifies an access token's signature, algorithm, expiry and claims (not whether its session is
   * still active: `SessionService.verify` does both).
   * @throws {UnauthorizedError} for a malformed, expired or forged token, or one of another algorithm
   */
  async verifyAccessToken(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known) {
      if (this.clock.nowMs() < known.expiresAtMs) return known.principal;
      this.verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, await this.hmacKey(), {
        algorithms: [ALGORITHM],
        currentDate: new Date(this.clock.nowMs()),
      });
      const { role, sid } = payload;
      if (
        typeof payload.sub !== 'string' ||
        !UUID_PATTERN.test(payload.sub) ||
        typeof sid !== 'string' ||
        !UUID_PATTERN.test(sid) ||
        (role !== 'user' && role !== 'admin')
      ) {
        throw new UnauthorizedError('invalid access token');
      }
      const principal: Principal = { userId: payload.sub, role, sessionId: sid };
      // jose has checked `exp`: a token is good while the current second is before it.
      if (typeof payload.exp === 'number') {
        if (this.verified.size >= VERIFIED_TOKENS_MAX) this.verified.clear();
        this.verified.set(token, { principal, expiresAtMs: payload.exp * 1000 });
      }
      return principal;
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new UnauthorizedError('access token expired');
      throw new UnauthorizedError('invalid access token');
    }
  }

  private hmacKey(): Promise<webcrypto.CryptoKey> {
    this.key ??= webcrypto.subtle.importKey('raw', this.secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    return this.key;
  }
}
