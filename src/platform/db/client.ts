import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';

/**
 * The Drizzle client over a `pg` pool. It is given no schema: each module imports its own tables
 * (the platform knows none of them), and no code uses Drizzle's relational `db.query` API, which
 * alone would need them all.
 */
export type Db = NodePgDatabase<Record<string, never>> & { $client: pg.Pool };
/** A database transaction (`tx`), as handed to a `db.transaction` callback. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Either a pool-backed client or an open transaction: read-only helpers take both. */
export type Queryable = Db | Tx;

/**
 * Opens a connection pool. NUMERIC values come back as strings (node-postgres' default), which the
 * code keeps as strings or turns into `Decimal` — never into a float.
 * @param poolSizeMax connections at most
 */
export function createDb(databaseUrl: string, poolSizeMax: number): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSizeMax,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'paperbroker',
  });
  // An idle client that loses its connection emits 'error'; without a listener that would crash the
  // process. The pool drops the client and the next query opens a new one.
  pool.on('error', () => undefined);
  return drizzle(pool);
}
