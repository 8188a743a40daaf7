import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import type { Db, Queryable } from '../../platform/db/client.js';
import { withTransaction } from '../../platform/db/tx.js';
import { type Principal, UnauthorizedError } from '../../platform/http/auth-guard.js';
import { defined } from '../../shared/assert.js';
import type { TokenService } from './tokens.js';

/** Why a session ended. */
export type RevokeReason = 'logout' | 'password_changed' | 'account_deleted' | 'refresh_token_reused';

/** What a login (or a refresh) hands to the client. */
export interface IssuedTokens {
  accessToken: string;
  /** seconds */
  expiresInSeconds: number;
  /** opaque, single use; exchanged at `POST /api/v1/auth/refresh` */
  refreshToken: string;
  sessionId: string;
}

export interface SessionOptions {
  /** how long a session can be refreshed after its last refresh (s) */
  refreshTtlSeconds: number;
  /** lifetime of an access token (s): a revoked session is remembered as revoked in the cache that long */
  accessTtlSeconds: number;
}

/**
 * How long "this session is active" is trusted from the cache (ms). Revocation overwrites the entry
 * at once, so this only bounds how late a role change is seen.
 */
const ACTIVE_CACHE_TTL_MS = 30_000;
const REFRESH_TOKEN_BYTES = 32;
const REFRESH_TOKEN_PATTERN = /^rt_[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Logins ("sessions"), their short-lived access tokens and rotating refresh tokens. An access token
 * is accepted only while its session is active: logout, a password change, account deletion or the
 * reuse of a rotated refresh token revoke the session, and every token of it stops working at once.
 * Whether a session is active is cached (Redis when set, so every instance sees a revocation at
 * once; in process otherwise) and read from PostgreSQL on a miss.
 */
export class SessionService {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly cache: KeyValueCache,
    private readonly options: SessionOptions,
  ) {}

  /** How long a refresh token may be exchanged after it was issued (s): its cookie's lifetime. */
  get refreshTtlSeconds(): number {
    return this.options.refreshTtlSeconds;
  }

  /** Starts a session for a user who has just proved who they are; returns its first tokens. */
  async start(user: { id: string; role: 'user' | 'admin' }): Promise<IssuedTokens> {
    const refreshToken = `rt_${randomBytes(REFRESH_TOKEN_BYTES).toString('base64url')}`;
    const rows = await this.db.execute<{ id: string }>(sql`
      with s as (
        insert into auth_sessions (user_id, expires_at)
        values (${user.id}, now() + make_interval(secs => ${this.options.refreshTtlSeconds}))
        returning id, expires_at
      ), t as (
        insert into refresh_tokens (token_hash, session_id, expires_at)
        select ${hashToken(refreshToken)}, s.id, s.expires_at from s
        returning 1
      )
      select s.id from s, t`);
    const sessionId = defined(rows.rows[0]).id;
    const access = await this.tokens.issueAccessToken({ userId: user.id, role: user.role, sessionId });
    return { accessToken: access.token, expiresInSeconds: access.expiresInSeconds, refreshToken, sessionId };
  }

  /**
   * Verifies an access token and that its session is still active; the role comes from the user row
   * (so a role change applies within `ACTIVE_CACHE_TTL_MS`).
   * @throws {UnauthorizedError} (401) malformed, forged, expired, revoked, or of a deleted user
   */
  async verify(accessToken: string): Promise<Principal> {
    const claims = await this.tokens.verifyAccessToken(accessToken);
    const key = `session:${claims.sessionId}`;
    let state = await this.cache.get(key).catch(() => null);
    if (state === null) {
      state = await this.readState(this.db, claims.sessionId, claims.userId);
      if (state !== 'revoked')
        await this.cache.setIfAbsent(key, state, ACTIVE_CACHE_TTL_MS).catch(() => false);
    }
    if (state === 'revoked') throw new UnauthorizedError('this session has ended: log in again');
    const role = state === 'active:admin' ? 'admin' : 'user';
    return { ...claims, role };
  }

  /**
   * Exchanges a refresh token for a new access token and a new refresh token (rotation). Using a
   * refresh token a second time revokes its whole session: one of the two users of it is a thief.
   * @throws {UnauthorizedError} (401) unknown, expired, rotated or revoked token, or a deleted user
   */
  async refresh(refreshToken: string): Promise<IssuedTokens> {
    if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) throw new UnauthorizedError('invalid refresh token');
    const tokenHash = hashToken(refreshToken);
    const outcome = await withTransaction(this.db, async (tx) => {
      const used = await tx.execute<{ session_id: string; user_id: string; role: 'user' | 'admin' }>(sql`
        update refresh_tokens t set used_at = now()
          from auth_sessions s join users u on u.id = s.user_id
         where t.token_hash = ${tokenHash} and t.used_at is null and t.expires_at > now()
           and s.id = t.session_id and s.revoked_at is null and s.expires_at > now() and u.deleted_at is null
        returning t.session_id, s.user_id, u.role`);
      const row = used.rows[0];
      if (row) {
        const next = `rt_${randomBytes(REFRESH_TOKEN_BYTES).toString('base64url')}`;
        await tx.execute(sql`
          update auth_sessions set expires_at = now() + make_interval(secs => ${this.options.refreshTtlSeconds})
           where id = ${row.session_id}`);
        await tx.execute(sql`
          insert into refresh_tokens (token_hash, session_id, expires_at)
          values (${hashToken(next)}, ${row.session_id}, now() + make_interval(secs => ${this.options.refreshTtlSeconds}))`);
        return {
          kind: 'rotated' as const,
          sessionId: row.session_id,
          userId: row.user_id,
          role: row.role,
          next,
        };
      }
      const known = await tx.execute<{ session_id: string; used_at: Date | null }>(
        sql`select session_id, used_at from refresh_tokens where token_hash = ${tokenHash}`,
      );
      const reused = known.rows[0];
      if (reused?.used_at) {
        await this.revokeSessions(tx, sql`id = ${reused.session_id}`, 'refresh_token_reused');
        return { kind: 'reused' as const, sessionId: reused.session_id };
      }
      return { kind: 'refused' as const };
    });
    if (outcome.kind === 'reused') {
      await this.forget([outcome.sessionId]);
      throw new UnauthorizedError(
        'this refresh token was already used: the session is revoked, log in again',
      );
    }
    if (outcome.kind === 'refused') throw new UnauthorizedError('invalid or expired refresh token');
    const access = await this.tokens.issueAccessToken({
      userId: outcome.userId,
      role: outcome.role,
      sessionId: outcome.sessionId,
    });
    return {
      accessToken: access.token,
      expiresInSeconds: access.expiresInSeconds,
      refreshToken: outcome.next,
      sessionId: outcome.sessionId,
    };
  }

  /**
   * Ends the caller's session, and the session of `refreshToken` too when it is the same user's.
   * Every access and refresh token of those sessions stops working at once.
   */
  async logout(principal: Principal, refreshToken: string | undefined): Promise<void> {
    const ids = await withTransaction(this.db, async (tx) => {
      const revoked = await this.revokeSessions(
        tx,
        sql`user_id = ${principal.userId} and (id = ${principal.sessionId} or id in (
              select session_id from refresh_tokens where token_hash = ${hashToken(refreshToken ?? '')}))`,
        'logout',
      );
      return [principal.sessionId, ...revoked];
    });
    await this.forget(ids);
  }

  /**
   * Revokes every session of a user (but `exceptSessionId`) inside the caller's transaction (a
   * password change, an account deletion). Call `forget` with the result after the commit.
   * @returns the ids of the sessions revoked
   */
  async revokeUserSessions(
    tx: Queryable,
    userId: string,
    reason: RevokeReason,
    exceptSessionId?: string,
  ): Promise<string[]> {
    const where = exceptSessionId
      ? sql`user_id = ${userId} and id <> ${exceptSessionId}`
      : sql`user_id = ${userId}`;
    return await this.revokeSessions(tx, where, reason);
  }

  /** Marks sessions revoked in the cache, so every instance refuses their tokens at once. */
  async forget(sessionIds: string[]): Promise<void> {
    const keepMs = (this.options.accessTtlSeconds + 60) * 1000;
    await Promise.all(
      sessionIds.map((id) => this.cache.set(`session:${id}`, 'revoked', keepMs).catch(() => undefined)),
    );
  }

  private async revokeSessions(
    tx: Queryable,
    where: ReturnType<typeof sql>,
    reason: RevokeReason,
  ): Promise<string[]> {
    const rows = await tx.execute<{ id: string }>(sql`
      update auth_sessions set revoked_at = now(), revoked_reason = ${reason}
       where revoked_at is null and ${where}
      returning id`);
    return rows.rows.map((r) => r.id);
  }

  private async readState(db: Queryable, sessionId: string, userId: string): Promise<string> {
    const rows = await db.execute<{ role: string }>(sql`
      select u.role from auth_sessions s join users u on u.id = s.user_id
       where s.id = ${sessionId} and s.user_id = ${userId} and s.revoked_at is null and u.deleted_at is null`);
    const row = rows.rows[0];
    return row ? `active:${row.role}` : 'revoked';
  }
}
