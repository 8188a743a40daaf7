/**
 * A logical Redis database that one test run has to itself, for tests that run the real program as
 * child processes on Redis (test/crash, test/cluster). Why not a key prefix: the program's prefix is fixed —
 * `pb:` for the cache, the once-per-interval job slots and the cached symbol list, `pb:bull:` for
 * BullMQ's bet queue (src/platform/cache/index.ts, src/modules/bets/scheduler.ts) — and no setting
 * changes it, so two runs of the program on one database would share the bet queue (a worker takes
 * the other run's jobs and drops them: the bet is not in its database) and the symbol list.
 *
 * What a logical database does not separate: pub/sub. Redis channels are server-wide, whatever the
 * database, so a run's `pb:prices:<SYMBOL>` ticks reach every run on the server; a test that watches
 * prices uses symbols of its own (account channels are per user id, unique already).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The key a run sets (NX) in a database to hold it; expires by itself after a run that died. */
const CLAIM_KEY = 'pbtest:claimed-by';
/** How long a claim holds without being released (ms): longer than any test file runs. */
const CLAIM_TTL_MS = 15 * 60 * 1000;
/** The program's own keys: what a run clears in its database, before and after. */
const PROGRAM_KEYS = 'pb:*';
/** Keys deleted per command when clearing. */
const DELETE_BATCH = 500;

/** A claimed database: its URL (`redis://…/<n>`) and how to give it back. */
export interface RedisDatabase {
  url: string;
  index: number;
  /** Deletes the program's keys in it, and the claim; closes the connection. */
  release(): Promise<void>;
}

async function scanKeys(redis: Redis, pattern: string, limit = Number.POSITIVE_INFINITY): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0' && keys.length < limit);
  return keys;
}

async function deleteProgramKeys(redis: Redis): Promise<void> {
  const keys = await scanKeys(redis, PROGRAM_KEYS);
  for (let i = 0; i < keys.length; i += DELETE_BATCH) await redis.del(...keys.slice(i, i + DELETE_BATCH));
}

/** True when the database holds keys that are neither the program's nor a claim: someone else's. */
async function holdsForeignKeys(redis: Redis): Promise<boolean> {
  const all = await scanKeys(redis, '*', 100);
  return all.some((key) => key !== CLAIM_KEY && !key.startsWith('pb:'));
}

/**
 * Claims the first of databases 1–15 (0 is where everything else lives) that no other run holds and
 * that holds nothing but the program's keys, and clears those (what a run that died left).
 * @param redisUrl `REDIS_URL`; its own database number, if any, is ignored
 * @throws {Error} when every database is held or used by something else
 */
export async function claimRedisDatabase(redisUrl: string): Promise<RedisDatabase> {
  const owner = randomBytes(8).toString('hex');
  for (let index = 1; index <= 15; index++) {
    const redis = new Redis(redisUrl, { db: index, maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    const claimed = (await redis.set(CLAIM_KEY, owner, 'PX', CLAIM_TTL_MS, 'NX')) === 'OK';
    if (claimed && !(await holdsForeignKeys(redis))) {
      await deleteProgramKeys(redis);
      const url = new URL(redisUrl);
      url.pathname = `/${index}`;
      return {
        url: url.toString(),
        index,
        release: async () => {
          await deleteProgramKeys(redis);
          if ((await redis.get(CLAIM_KEY)) === owner) await redis.del(CLAIM_KEY);
          await redis.quit().catch(() => redis.disconnect());
        },
      };
    }
    if (claimed) await redis.del(CLAIM_KEY);
    await redis.quit().catch(() => redis.disconnect());
  }
  throw new Error('no free logical Redis database among 1–15 (each is claimed or holds foreign keys)');
}
