/**
 * Access tokens (TokenService): a token verified once is remembered until its `exp`, and never
 * beyond it; a token of the same claims but another signature is still refused.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenService } from '../../../src/modules/auth/tokens.js';
import { UnauthorizedError } from '../../../src/platform/http/auth-guard.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const TTL_SECONDS = 900;

describe('access tokens', () => {
  it('a verified token stays good until its expiry second, then answers 401 expired', async () => {
    let nowMs = Date.UTC(2026, 10, 26, 12, 0, 0, 250);
    const tokens = new TokenService(SECRET, TTL_SECONDS, { nowMs: () => nowMs });
    const principal = { userId: randomUUID(), role: 'user' as const, sessionId: randomUUID() };
    const { token } = await tokens.issueAccessToken(principal);

    expect(await tokens.verifyAccessToken(token)).toEqual(principal);
    nowMs += TTL_SECONDS * 1000 - 251; // the last millisecond of its lifetime
    expect(await tokens.verifyAccessToken(token)).toEqual(principal);
    nowMs += 1;
    await expect(tokens.verifyAccessToken(token)).rejects.toThrow(
      new UnauthorizedError('access token expired'),
    );
    await expect(tokens.verifyAccessToken(token)).rejects.toThrow(UnauthorizedError);
  });

  it('a token signed with another key is refused, even with claims equal to a verified one', async () => {
    const clock = { nowMs: () => Date.now() };
    const ours = new TokenService(SECRET, TTL_SECONDS, clock);
    const theirs = new TokenService('another-secret-of-at-least-32-characters', TTL_SECONDS, clock);
    const principal = { userId: randomUUID(), role: 'admin' as const, sessionId: randomUUID() };
    const good = await ours.issueAccessToken(principal);
    expect(await ours.verifyAccessToken(good.token)).toEqual(principal);
    const forged = await theirs.issueAccessToken(principal);
    await expect(ours.verifyAccessToken(forged.token)).rejects.toThrow(
      new UnauthorizedError('invalid access token'),
    );
    // The same header and payload with one signature character changed (a bit that counts).
    const at = good.token.length - 5;
    const tampered = `${good.token.slice(0, at)}${good.token[at] === 'A' ? 'g' : 'A'}${good.token.slice(at + 1)}`;
    await expect(ours.verifyAccessToken(tampered)).rejects.toThrow(UnauthorizedError);
  });
});
