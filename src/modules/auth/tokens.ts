import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { type Principal, UnauthorizedError } from '../../platform/http/auth-guard.js';
import type { Clock } from '../../shared/clock.js';

const ALGORITHM = 'HS256';
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  private readonly key: Uint8Array;

  /** @param secret at least 32 characters; @param accessTtlSeconds lifetime of an access token */
  constructor(
    secret: string,
    private readonly accessTtlSeconds: number,
    private readonly clock: Clock,
  ) {
    this.key = new TextEncoder().encode(secret);
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
      .sign(this.key);
    return { token, expiresInSeconds: this.accessTtlSeconds };
  }

  /**
   * Verifies an access token's signature, algorithm, expiry and claims (not whether its session is
   * still active: `SessionService.verify` does both).
   * @throws {UnauthorizedError} for a malformed, expired or forged token, or one of another algorithm
   */
  async verifyAccessToken(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
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
      return { userId: payload.sub, role, sessionId: sid };
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new UnauthorizedError('access token expired');
      throw new UnauthorizedError('invalid access token');
    }
  }
}
