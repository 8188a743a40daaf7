import { sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.js';
import { afterCommit } from '../../platform/db/tx.js';
import { ledgerBatchSize, ledgerJournals } from '../../platform/observability/metrics.js';
import { assert, defined } from '../../shared/assert.js';
import { AMOUNT_SCALE, BALANCE_MAX, Decimal, formatDecimal } from '../../shared/decimal.js';
import { type AccountRef, accountCode, type WalletAccountRef } from './accounts.js';
import { BalanceLimitError, InsufficientFundsError, type JournalRefusal } from './errors.js';

/** A request to move `amount` (> 0, at most 8 decimals) of `asset` from `source` to `destination`. */
export interface Posting {
  source: AccountRef;
  destination: AccountRef;
  asset: string;
  amount: Decimal;
}

/** One journal transaction to write: what kind of movement, and its postings in order. */
export interface JournalRequest {
  /** e.g. `registration_grant`, `order_fill` */
  kind: string;
  /** Credits should come before debits of the same account, so no entry shows a negative balance. */
  postings: Posting[];
  metadata?: Record<string, string>;
}

/** The written journal transaction. */
export interface PostedJournal {
  journalId: number;
  createdAt: Date;
}

interface AccountState {
  id: number;
  code: string;
  asset: string;
  /** null for system accounts, which keep no stored balance */
  balance: Decimal | null;
  version: number;
  /** the version read under the lock: an account whose version moved is written back */
  versionAtLock: number;
}

interface EntryRow {
  accountId: number;
  asset: string;
  amount: Decimal;
  balanceBefore: Decimal | null;
  balanceAfter: Decimal | null;
  accountVersion: number | null;
}

/**
 * The only writer of ledger tables. Every balance change in the product is a `post()` inside the
 * caller's database transaction, so the journal, its entries and the balance updates commit or roll
 * back together with the caller's own rows (an order, a bet).
 */
export class Ledger {
  /** System account ids never change once created: cache them to skip a query per journal. */
  private readonly systemAccountIds = new Map<string, number>();

  /**
   * Writes one journal transaction: two entries per posting, balance updates of every wallet account
   * touched, all in `tx`. Wallet accounts are created on first use and locked `FOR UPDATE` in
   * ascending id order (one fixed order, so concurrent journals queue instead of deadlocking), and
   * the decision that they stay ≥ 0 is made only on the balances read under those locks.
   * @throws {InsufficientFundsError} when a wallet account would go below zero; nothing is written
   * @throws {BalanceLimitError} when a wallet account would exceed `BALANCE_MAX` (10^15); nothing is written
   */
  async post(tx: Tx, request: JournalRequest): Promise<PostedJournal> {
    const [outcome] = await this.postBatch(tx, [request]);
    assert(outcome, 'a batch of one journal has one outcome');
    if (isRefusal(outcome)) throw outcome;
    return outcome;
  }

  /**
   * Writes several journal transactions in `tx`, deciding each in the given order as if they were
   * posted one after another: a journal that would take a wallet account below zero (or beyond
   * `BALANCE_MAX`) is refused — its outcome is the `InsufficientFundsError` (`BalanceLimitError`) and
   * it writes nothing — while the others go ahead. Every account of the batch is locked once, in
   * ascending id order, and all journals, entries and balance updates are written by one statement,
   * so N operations on one hot account cost one lock and one commit instead of N (TigerBeetle's
   * batching, with each journal keeping its own decision).
   * @returns one outcome per request, in order: the posted journal, or why it was refused
   */
  async postBatch(tx: Tx, requests: JournalRequest[]): Promise<(PostedJournal | JournalRefusal)[]> {
    assert(requests.length > 0, 'a batch needs at least one journal');
    for (const request of requests) validateRequest(request);
    ledgerBatchSize.observe(requests.length);
    const accounts = await this.lockAccounts(
      tx,
      requests.flatMap((r) => r.postings),
    );

    const outcomes: (number | JournalRefusal)[] = [];
    const accepted: { request: JournalRequest; entries: EntryRow[] }[] = [];
    for (const request of requests) {
      const decided = decide(request, accounts);
      if (isRefusal(decided)) {
        ledgerJournals.inc({ kind: request.kind, outcome: 'refused' });
        outcomes.push(decided);
        continue;
      }
      outcomes.push(accepted.length);
      accepted.push({ request, entries: decided });
    }
    if (accepted.length === 0) return outcomes as JournalRefusal[];

    const entries = accepted.flatMap(({ entries }, n) => entries.map((entry) => ({ ...entry, n: n + 1 })));
    const updated = [...accounts.values()].filter((a) => a.balance !== null && a.version !== a.versionAtLock);
    const text = (values: (Decimal | number | string | null)[]) =>
      values.map((v) => (v === null ? null : String(v)));
    // Journal ids are drawn first so that entries can name their journal within the same statement.
    const result = await tx.execute<{ n: number; id: string; created_at: Date }>(sql`
      with ids as materialized (
        select n, nextval(pg_get_serial_sequence('journal_transactions', 'id')) as id
          from generate_series(1, ${accepted.length}::int) as n
      ), j as (
        insert into journal_transactions (id, kind, metadata)
        overriding system value
        select ids.id, x.kind, x.metadata
          from unnest(
            ${sql.param(accepted.map((a) => a.request.kind))}::text[],
            ${sql.param(accepted.map((a) => (a.request.metadata ? JSON.stringify(a.request.metadata) : null)))}::jsonb[]
          ) with ordinality as x(kind, metadata, n)
          join ids on ids.n = x.n
         order by x.n
        returning id, created_at
      ), e as (
        insert into ledger_entries (journal_id, account_id, asset, amount, balance_before, balance_after, account_version)
        select ids.id, x.account_id, x.asset, x.amount, x.balance_before, x.balance_after, x.account_version
          from unnest(
            ${sql.param(entries.map((e) => e.n))}::int[],
            ${sql.param(entries.map((e) => e.accountId))}::bigint[],
            ${sql.param(entries.map((e) => e.asset))}::text[],
            ${sql.param(text(entries.map((e) => e.amount)))}::numeric[],
            ${sql.param(text(entries.map((e) => e.balanceBefore)))}::numeric[],
            ${sql.param(text(entries.map((e) => e.balanceAfter)))}::numeric[],
            ${sql.param(text(entries.map((e) => e.accountVersion)))}::bigint[]
          ) with ordinality as x(n, account_id, asset, amount, balance_before, balance_after, account_version, ord)
          join ids on ids.n = x.n
         order by x.ord
        returning 1
      ), u as (
        update ledger_accounts a
           set balance = v.balance, version = v.version
          from unnest(
            ${sql.param(updated.map((a) => a.id))}::bigint[],
            ${sql.param(text(updated.map((a) => a.balance)))}::numeric[],
            ${sql.param(updated.map((a) => a.version))}::bigint[]
          ) as v(id, balance, version)
         where a.id = v.id
        returning 1
      )
      select ids.n, j.id, j.created_at, (select count(*) from e) as entry_count, (select count(*) from u) as update_count
        from j join ids on ids.id = j.id
       order by ids.n`);
    assert(result.rows.length === accepted.length, 'every accepted journal is written');
    // Counted once the caller's transaction commits: a batch rolled back (and re-run item by item)
    // posted nothing.
    afterCommit(tx, () => {
      for (const { request } of accepted) ledgerJournals.inc({ kind: request.kind, outcome: 'posted' });
    });
    const posted = result.rows.map((row) => ({
      journalId: Number(row.id),
      createdAt: new Date(row.created_at),
    }));
    return outcomes.map((o) => (typeof o === 'number' ? defined(posted[o]) : o));
  }

  /** Resolves every account of the postings; wallet accounts are created if missing and locked. */
  private async lockAccounts(tx: Tx, postings: Posting[]): Promise<Map<string, AccountState>> {
    const walletAccounts = new Map<string, { ref: WalletAccountRef; asset: string }>();
    const systemAccounts = new Map<string, string>();
    for (const posting of postings) {
      for (const ref of [posting.source, posting.destination]) {
        const code = accountCode(ref, posting.asset);
        if ('system' in ref) systemAccounts.set(code, posting.asset);
        else walletAccounts.set(code, { ref, asset: posting.asset });
      }
    }

    const states = new Map<string, AccountState>();
    const missingSystem = [...systemAccounts.keys()].filter((code) => !this.systemAccountIds.has(code));
    const resolvedSystem = new Map<string, number>();
    if (missingSystem.length > 0) {
      // Created in the caller's transaction (a second pool connection here could starve the pool).
      // Only ids of rows committed by someone else are cached: a row this transaction inserted would
      // vanish if the journal is refused and the transaction rolls back.
      const inserted = await tx.execute<{ code: string }>(sql`
        insert into ledger_accounts (code, asset, bucket)
        select c, a, 'system' from unnest(
          ${sql.param(missingSystem)}::text[], ${sql.param(missingSystem.map((c) => systemAccounts.get(c)))}::text[]
        ) as x(c, a)
        on conflict (code) do nothing
        returning code`);
      const ours = new Set(inserted.rows.map((row) => row.code));
      const found = await tx.execute<{ id: string; code: string }>(
        sql`select id, code from ledger_accounts where code = any(${sql.param(missingSystem)}::text[])`,
      );
      for (const row of found.rows) {
        if (!ours.has(row.code)) this.systemAccountIds.set(row.code, Number(row.id));
        resolvedSystem.set(row.code, Number(row.id));
      }
    }
    for (const [code, asset] of systemAccounts) {
      const id = this.systemAccountIds.get(code) ?? resolvedSystem.get(code);
      assert(id !== undefined, `system account ${code} exists`);
      states.set(code, { id, code, asset, balance: null, version: 0, versionAtLock: 0 });
    }

    if (walletAccounts.size === 0) return states;
    const codes = [...walletAccounts.keys()];
    const lock = async (wanted: string[]) =>
      tx.execute<{ id: string; code: string; asset: string; balance: string; version: string }>(sql`
        select id, code, asset, balance, version from ledger_accounts
         where code = any(${sql.param(wanted)}::text[])
         order by id
           for update`);
    const remember = (
      rows: { id: string; code: string; asset: string; balance: string; version: string }[],
    ) => {
      for (const row of rows) {
        states.set(row.code, {
          id: Number(row.id),
          code: row.code,
          asset: row.asset,
          balance: new Decimal(row.balance),
          version: Number(row.version),
          versionAtLock: Number(row.version),
        });
      }
    };
    remember((await lock(codes)).rows);
    const missing = codes.filter((code) => !states.has(code));
    if (missing.length > 0) {
      const specs = missing.map((code) => defined(walletAccounts.get(code)));
      const purposeOf = ({ ref }: { ref: WalletAccountRef }) =>
        ref.bucket === 'locked' ? ref.purpose : null;
      const referenceOf = ({ ref }: { ref: WalletAccountRef }) =>
        ref.bucket === 'locked' && ref.purpose === 'short_collateral' ? ref.reference : null;
      await tx.execute(sql`
        insert into ledger_accounts (code, wallet_id, asset, bucket, purpose, reference, balance)
        select c, w, a, b, p, r, 0 from unnest(
          ${sql.param(missing)}::text[],
          ${sql.param(specs.map((s) => s.ref.walletId))}::uuid[],
          ${sql.param(specs.map((s) => s.asset))}::text[],
          ${sql.param(specs.map((s) => s.ref.bucket))}::text[],
          ${sql.param(specs.map(purposeOf))}::text[],
          ${sql.param(specs.map(referenceOf))}::text[]
        ) as x(c, w, a, b, p, r)
        on conflict (code) do nothing`);
      remember((await lock(missing)).rows);
    }
    for (const code of codes) assert(states.has(code), `wallet account ${code} exists`);
    return states;
  }
}

/** Programmer errors in a journal request: each is a bug in the caller, not a client error. */
function validateRequest(request: JournalRequest): void {
  assert(request.postings.length > 0, 'a journal needs at least one posting');
  for (const posting of request.postings) {
    assert(posting.amount.gt(0), 'a posting amount must be positive');
    assert(posting.amount.decimalPlaces() <= AMOUNT_SCALE, 'a posting amount has more than 8 decimals');
    assert(
      accountCode(posting.source, posting.asset) !== accountCode(posting.destination, posting.asset),
      'a posting must move money between two different accounts',
    );
  }
}

/**
 * Applies one journal to the locked accounts' in-memory state and returns its entries, or refuses
 * it — leaving every account exactly as it was — when a wallet account would go below zero.
 */
function decide(request: JournalRequest, accounts: Map<string, AccountState>): EntryRow[] | JournalRefusal {
  const before = new Map<AccountState, { balance: Decimal | null; version: number }>();
  // What the journal takes from each account in all, for an InsufficientFundsError that says it.
  const debitTotals = new Map<string, Decimal>();
  for (const { source, asset, amount } of request.postings) {
    const code = accountCode(source, asset);
    debitTotals.set(code, (debitTotals.get(code) ?? new Decimal(0)).plus(amount));
  }
  const entries: EntryRow[] = [];
  const apply = (ref: AccountRef, asset: string, amount: Decimal): JournalRefusal | undefined => {
    const code = accountCode(ref, asset);
    const account = accounts.get(code);
    assert(account, 'every account of a journal is resolved before its entries');
    if (account.balance === null) {
      entries.push({
        accountId: account.id,
        asset,
        amount,
        balanceBefore: null,
        balanceAfter: null,
        accountVersion: null,
      });
      return undefined;
    }
    if (!before.has(account)) before.set(account, { balance: account.balance, version: account.version });
    const balanceAfter = account.balance.plus(amount);
    if (balanceAfter.isNegative()) {
      return new InsufficientFundsError(`insufficient funds: not enough ${asset} available`, {
        asset,
        available: formatDecimal(before.get(account)?.balance ?? account.balance),
        required: formatDecimal(debitTotals.get(code) ?? amount.negated()),
      });
    }
    if (balanceAfter.gt(BALANCE_MAX)) {
      return new BalanceLimitError(
        `the ${asset} balance would exceed the largest balance an account may hold (${formatDecimal(BALANCE_MAX)})`,
        {
          asset,
          balance: formatDecimal(before.get(account)?.balance ?? account.balance),
          balance_max: formatDecimal(BALANCE_MAX),
        },
      );
    }
    account.version += 1;
    entries.push({
      accountId: account.id,
      asset,
      amount,
      balanceBefore: account.balance,
      balanceAfter,
      accountVersion: account.version,
    });
    account.balance = balanceAfter;
    return undefined;
  };
  for (const posting of request.postings) {
    const refused =
      apply(posting.source, posting.asset, posting.amount.negated()) ??
      apply(posting.destination, posting.asset, posting.amount);
    if (refused) {
      for (const [account, state] of before) {
        account.balance = state.balance;
        account.version = state.version;
      }
      return refused;
    }
  }

  // First half of the pair assertion; the database trigger ledger_entries_balanced is the second.
  const totals = new Map<string, Decimal>();
  for (const entry of entries)
    totals.set(entry.asset, (totals.get(entry.asset) ?? new Decimal(0)).plus(entry.amount));
  for (const [asset, total] of totals) assert(total.isZero(), `journal entries in ${asset} sum to ${total}`);
  return entries;
}

/** True for a journal the ledger refused (as opposed to one it posted). */
export function isRefusal(outcome: PostedJournal | EntryRow[] | JournalRefusal): outcome is JournalRefusal {
  return outcome instanceof InsufficientFundsError || outcome instanceof BalanceLimitError;
}
