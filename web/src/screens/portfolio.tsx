import { api, call, type JournalTransaction } from '../api/client';
import { ErrorText, LoadMore, Region, Scroll, Stat } from '../components/region';
import { fmt, fmtMoney, fmtSigned, fmtTime, signClass } from '../format';
import { useLoad, usePages } from '../hooks';
import { useSession } from '../session';

/** The selected wallet's portfolio: equity, cash, realized and unrealized P&L, holdings. */
export function Portfolio() {
  const { wallet, revision } = useSession();
  const id = wallet?.id;
  const portfolio = useLoad(
    async () =>
      id
        ? call(() =>
            api.GET('/api/v1/wallets/{wallet_id}/portfolio', { params: { path: { wallet_id: id } } }),
          )
        : undefined,
    [id, revision],
  );
  const p = portfolio.data;
  const q = p?.quote_asset ?? '';
  return (
    <Region title="Portfolio" id="portfolio">
      <ErrorText error={portfolio.error} />
      {p ? (
        <>
          <dl class="totals">
            <Stat label="Equity" value={`${fmtMoney(p.totals.equity)} ${q}`} />
            <Stat label="Cash" value={`${fmtMoney(p.totals.cash)} ${q}`} />
            <Stat
              label="Realized P&L"
              value={`${fmtSigned(p.totals.realized_pnl)} ${q}`}
              class={signClass(p.totals.realized_pnl)}
            />
            <Stat
              label="Unrealized P&L"
              value={`${fmtSigned(p.totals.unrealized_pnl)} ${q}`}
              class={signClass(p.totals.unrealized_pnl)}
            />
            <Stat label="Margin used" value={`${fmtMoney(p.totals.margin_used)} ${q}`} />
          </dl>
          <Scroll label="Holdings table">
            <table>
              <caption>Holdings</caption>
              <thead>
                <tr>
                  <th scope="col">Asset</th>
                  <th scope="col" class="num">
                    Quantity
                  </th>
                  <th scope="col" class="num">
                    Average cost
                  </th>
                  <th scope="col" class="num">
                    Mark
                  </th>
                  <th scope="col" class="num">
                    Market value
                  </th>
                  <th scope="col" class="num">
                    Unrealized P&amp;L
                  </th>
                </tr>
              </thead>
              <tbody>
                {p.holdings.map((h) => (
                  <tr key={h.asset}>
                    <th scope="row">{h.asset}</th>
                    <td class="num">{fmt(h.quantity)}</td>
                    <td class="num">{fmt(h.average_cost)}</td>
                    <td class="num">{fmt(h.mark_price)}</td>
                    <td class="num">{fmtMoney(h.market_value)}</td>
                    <td class={`num ${signClass(h.unrealized_pnl)}`}>{fmtSigned(h.unrealized_pnl)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
          <p class="caption">As of {fmtTime(p.as_of)}</p>
        </>
      ) : (
        <p>Loading…</p>
      )}
    </Region>
  );
}

/** The wallet's ledger journal, newest first, paged, with each transaction's entries. */
export function Transactions() {
  const { wallet, revision } = useSession();
  const id = wallet?.id;
  const pages = usePages<JournalTransaction>(
    async (cursor) =>
      id
        ? call(() =>
            api.GET('/api/v1/wallets/{wallet_id}/transactions', {
              params: { path: { wallet_id: id }, query: { limit: 20, ...(cursor ? { cursor } : {}) } },
            }),
          )
        : { items: [], next_cursor: null },
    [id, revision],
  );
  return (
    <Region title="Transactions" id="transactions">
      <ErrorText error={pages.error} />
      <Scroll label="Transactions table">
        <table>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Entries (asset account: amount → balance after)</th>
              <th scope="col">Time</th>
              <th scope="col">Journal</th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((t) => (
              <tr key={t.id}>
                <td>{t.kind}</td>
                <td>
                  <ul class="entries">
                    {t.entries.map((e) => (
                      <li key={e.account_id}>
                        <span
                          class={signClass(e.amount)}
                        >{`${e.asset} ${e.account}: ${fmtSigned(e.amount, 8, false)}`}</span>
                        {e.wallet_id === id ? '' : ' (system)'}
                        {e.wallet_id === id && e.balance_after !== null ? ` → ${fmt(e.balance_after)}` : ''}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{fmtTime(t.created_at)}</td>
                <td>{t.id}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <LoadMore pages={pages} what="transactions" />
    </Region>
  );
}
