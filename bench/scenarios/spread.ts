/**
 * Spread: the real app answering `POST /api/v1/wallets/{wallet_id}/operation`, rotating round-robin
 * over the default wallets of the 1,000 shared users: each wallet gets a deposit of 1 USDT, then
 * (1,000 requests later) a withdrawal of 1, and so on. Compared to A. Checked: the operations stored
 * lie within what was answered and sent.
 */
import { answeredBounds } from '../harness/checks.js';
import { queryCount } from '../harness/database.js';
import type { Scenario } from '../harness/scenario.js';
import { startApp } from '../harness/servers.js';
import { runTimedLoad } from '../harness/timed-load.js';
import { QUOTE_ASSET } from '../harness/users.js';
import type { RequestVariant } from '../load.js';

/** Each of the 1,000 wallets alternately receives a deposit and a withdrawal of this. */
const SPREAD_AMOUNT = '1';

export const spread: Scenario = {
  id: 'spread',
  title: 'operations on 1,000 wallets (spread)',
  baseline: 'baseline',
  usesSharedUsers: true,
  settings: { spreadAmount: `${SPREAD_AMOUNT} ${QUOTE_ASSET}` },
  async run(ctx) {
    const users = ctx.sharedUsers;
    // Round-robin over 2 × 1,000 shapes: every wallet gets a deposit, then (1,000 requests later) a
    // withdrawal of the same amount, and so on; never two requests on one wallet at once.
    const variants: RequestVariant[] = [];
    for (const type of ['DEPOSIT', 'WITHDRAW']) {
      for (const user of users) {
        variants.push({
          path: `/api/v1/wallets/${user.walletId}/operation`,
          body: JSON.stringify({ operation_type: type, amount: SPREAD_AMOUNT }),
          token: user.token,
        });
      }
    }
    const target = await startApp(ctx);
    const result = await runTimedLoad(ctx, {
      title: 'spread',
      url: `${target.url}${variants[0]!.path}`,
      body: variants[0]!.body,
      variants,
    });
    await target.close();

    // Every 201 answered is stored; nothing is stored beyond the requests sent and not refused.
    const stored = await queryCount(
      ctx.db,
      `SELECT count(DISTINCT j.id)::text AS n
         FROM journal_transactions j
         JOIN ledger_entries e ON e.journal_id = j.id
         JOIN ledger_accounts a ON a.id = e.account_id
        WHERE j.kind IN ('deposit', 'withdrawal') AND a.wallet_id = ANY($1::uuid[])`,
      [users.map((u) => u.walletId)],
    );
    const bounds = answeredBounds(result);
    return {
      rows: [
        { id: 'spread', scenario: spread.title, result, baseline: 'baseline', goal: '—', goalMet: null },
      ],
      checks: [
        {
          scenario: 'spread',
          name: 'operations stored',
          ok: stored >= bounds.created && stored <= bounds.atMost,
          detail:
            `${stored} deposits/withdrawals stored (warm-up included); ${bounds.created} answered 201, ` +
            `≤ ${bounds.atMost} sent and not refused`,
        },
      ],
    };
  },
};
