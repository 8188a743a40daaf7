/**
 * Orders: the real app answering `POST /api/v1/orders` (a market buy of 0.0001 BTC), the bearer
 * token rotating round-robin over the 1,000 shared users, each on its own funded wallet; prices
 * replayed from the recorded klines. Compared to A.
 */
import { queryCount } from '../harness/database.js';
import { throughputRow } from '../harness/rows.js';
import type { Scenario } from '../harness/scenario.js';
import { startApp } from '../harness/servers.js';
import { runTimedLoad } from '../harness/timed-load.js';

/** What every order request sends (A sends it too). */
export const ORDER_BODY = JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', quantity: '0.0001' });
/** SPEC §6. */
const GOAL = { requestsPerSecMin: 1_500, p99MsMax: 50 } as const;

export const orders: Scenario = {
  id: 'orders',
  title: 'orders on 1,000 distinct wallets',
  baseline: 'baseline',
  usesSharedUsers: true,
  goal: GOAL,
  settings: { orderBody: JSON.parse(ORDER_BODY) as unknown },
  async run(ctx) {
    const target = await startApp(ctx);
    const result = await runTimedLoad(ctx, {
      title: 'orders',
      url: `${target.url}/api/v1/orders`,
      body: ORDER_BODY,
      tokens: ctx.sharedUsers.map((u) => u.token),
    });
    await target.close();
    const ordersStored = await queryCount(ctx.db, 'SELECT count(*)::text AS n FROM orders', []);
    ctx.findings.ordersStored = ordersStored;
    const note = `${ordersStored} orders stored (warm-up included)`;
    return {
      rows: [
        throughputRow({ id: 'orders', scenario: orders.title, result, baseline: 'baseline', note }, GOAL),
      ],
      checks: [],
    };
  },
};
