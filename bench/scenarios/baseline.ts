/**
 * A: a bare Fastify app (no logger, no plugins) with one route, `POST /baseline`, doing one
 * PostgreSQL transaction through `pg`: `BEGIN; UPDATE bench_rows SET n = n + 1 WHERE id = <random
 * of 1,000>; COMMIT`. What `orders` and `spread` are compared to.
 */
import { randomInt } from 'node:crypto';
import type { Scenario } from '../harness/scenario.js';
import { startBareServer } from '../harness/servers.js';
import { runTimedLoad } from '../harness/timed-load.js';
import { ORDER_BODY } from './orders.js';

const BASELINE_ROW_COUNT = 1_000;

export const baseline: Scenario = {
  id: 'baseline',
  title: 'A. baseline: bare Fastify + pg, 1 tx on 1 of 1,000 rows',
  baselineLabel: 'A',
  async run(ctx) {
    await ctx.db.$client.query('CREATE TABLE bench_rows (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)');
    await ctx.db.$client.query(
      'INSERT INTO bench_rows (id, n) SELECT g, 0 FROM generate_series(1, $1::int) g',
      [BASELINE_ROW_COUNT],
    );
    const server = await startBareServer(ctx, '/baseline', async (client) => {
      await client.query('BEGIN');
      await client.query('UPDATE bench_rows SET n = n + 1 WHERE id = $1', [
        randomInt(1, BASELINE_ROW_COUNT + 1),
      ]);
      await client.query('COMMIT');
      return 200;
    });
    // The orders' body (the route ignores it): A's requests weigh what the orders' do.
    const result = await runTimedLoad(ctx, { title: 'baseline', url: server.url, body: ORDER_BODY });
    await server.close();
    return {
      rows: [{ id: 'baseline', scenario: baseline.title, result, goal: '—', goalMet: null }],
      checks: [],
    };
  },
};
