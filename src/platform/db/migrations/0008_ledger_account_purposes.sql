-- Locked money gets one account per purpose (issue 16): a wallet's bet escrow per asset, each short's
-- collateral per position, order reserves per asset. Until now one `wallet:<id>:<asset>:locked`
-- account held all of it. This migration adds the columns, moves the money that the old accounts
-- hold into the new ones with ordinary, balanced journals, retires the old accounts, and only then
-- adds the CHECK constraints (PostgreSQL validates a new CHECK on every existing row, so the old
-- accounts must carry a purpose first). On a fresh database the data part moves nothing.
ALTER TABLE "ledger_accounts" ADD COLUMN "purpose" text;--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD COLUMN "reference" text;--> statement-breakpoint

-- The old accounts are kept, with their whole history, as purpose `legacy`: their entries mix short
-- collateral with bet stakes, so turning one into a purpose account would give that account a
-- history it cannot be reconciled against. They keep their code (`wallet:<id>:<asset>:locked`,
-- which no code of this version can produce), end at 0 below, and a CHECK keeps them at 0. A process
-- of the previous version still running cannot lock money any more: the legacy account refuses a
-- balance, and a new account without a purpose breaks `ledger_accounts_purpose_check`.
-- No journal can commit while this runs: ADD COLUMN holds ledger_accounts exclusively until the
-- migration's transaction ends, and every journal locks its accounts.
UPDATE "ledger_accounts" SET "purpose" = 'legacy' WHERE "bucket" = 'locked';--> statement-breakpoint

-- One journal of kind `account_migration` per old account holding money: one posting per open
-- position (its `collateral`, to its short_collateral account) and one for the stakes of the
-- wallet's pending bets in that asset (to its bet_escrow account), each written as two entries the
-- way Ledger.post writes a posting: the old account's chain goes on (balance_before/after, version
-- + 1 per posting) down to 0, and each new account starts its chain at version 1. All entries go in
-- one INSERT, so the trigger ledger_entries_balanced checks every journal sums to zero per asset.
-- What the old account holds must be exactly what those rows explain; otherwise the migration
-- stops with an error and changes nothing, rather than invent or drop money.
DO $$
DECLARE
  bad record;
BEGIN
  CREATE TEMP TABLE migration_0008_moves ON COMMIT DROP AS
  SELECT m.*, row_number() OVER (PARTITION BY m.wallet_id, m.asset ORDER BY m.purpose, m.reference) AS ord
    FROM (
      SELECT p.wallet_id, p.quote_asset AS asset, 'short_collateral'::text AS purpose, p.id::text AS reference,
             p.collateral AS amount
        FROM positions p
       WHERE p.status = 'open' AND p.collateral > 0
      UNION ALL
      SELECT b.wallet_id, b.quote_asset, 'bet_escrow', NULL, sum(b.stake)
        FROM bets b
       WHERE b.status = 'pending'
       GROUP BY b.wallet_id, b.quote_asset
    ) m;

  SELECT coalesce(a.wallet_id, w.wallet_id) AS wallet_id, coalesce(a.asset, w.asset) AS asset,
         coalesce(a.balance, 0) AS balance, coalesce(w.total, 0) AS expected
    INTO bad
    FROM (SELECT wallet_id, asset, balance FROM ledger_accounts WHERE purpose = 'legacy') a
    FULL JOIN (SELECT wallet_id, asset, sum(amount) AS total FROM migration_0008_moves GROUP BY wallet_id, asset) w
      ON w.wallet_id = a.wallet_id AND w.asset = a.asset
   WHERE coalesce(a.balance, 0) <> coalesce(w.total, 0)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'migration 0008: wallet % holds % % locked, but its open shorts'' collateral and pending bets'' stakes come to %',
      bad.wallet_id, bad.balance, bad.asset, bad.expected
      USING ERRCODE = 'check_violation',
            HINT = 'the ledger does not match the positions and bets tables; find out why before migrating (nothing was changed)';
  END IF;

  CREATE TEMP TABLE migration_0008_journals ON COMMIT DROP AS
  SELECT a.id AS account_id, a.code, a.wallet_id, a.asset, a.balance, a.version,
         nextval(pg_get_serial_sequence('journal_transactions', 'id')) AS journal_id
    FROM ledger_accounts a
   WHERE a.purpose = 'legacy' AND a.balance > 0;

  INSERT INTO journal_transactions (id, kind, metadata) OVERRIDING SYSTEM VALUE
  SELECT j.journal_id, 'account_migration',
         jsonb_build_object('migration', '0008_ledger_account_purposes', 'from_account', j.code)
    FROM migration_0008_journals j
   ORDER BY j.journal_id;

  INSERT INTO ledger_accounts (code, wallet_id, asset, bucket, purpose, reference, balance, version)
  SELECT 'wallet:' || m.wallet_id || ':' || m.asset || ':locked:' || m.purpose || coalesce(':' || m.reference, ''),
         m.wallet_id, m.asset, 'locked', m.purpose, m.reference, m.amount, 1
    FROM migration_0008_moves m
   ORDER BY m.wallet_id, m.asset, m.ord;

  INSERT INTO ledger_entries (journal_id, account_id, asset, amount, balance_before, balance_after, account_version)
  SELECT x.journal_id, x.account_id, x.asset, x.amount, x.balance_before, x.balance_after, x.account_version
    FROM (
      SELECT j.journal_id, j.account_id, m.asset, -m.amount AS amount,
             j.balance - sum(m.amount) OVER w + m.amount AS balance_before,
             j.balance - sum(m.amount) OVER w AS balance_after,
             j.version + m.ord AS account_version, m.ord, 0 AS side
        FROM migration_0008_moves m
        JOIN migration_0008_journals j ON j.wallet_id = m.wallet_id AND j.asset = m.asset
      WINDOW w AS (PARTITION BY m.wallet_id, m.asset ORDER BY m.ord)
      UNION ALL
      SELECT j.journal_id, n.id, m.asset, m.amount, 0, m.amount, 1, m.ord, 1
        FROM migration_0008_moves m
        JOIN migration_0008_journals j ON j.wallet_id = m.wallet_id AND j.asset = m.asset
        JOIN ledger_accounts n
          ON n.code = 'wallet:' || m.wallet_id || ':' || m.asset || ':locked:' || m.purpose || coalesce(':' || m.reference, '')
    ) x
   ORDER BY x.journal_id, x.ord, x.side;

  UPDATE ledger_accounts a
     SET balance = 0, version = a.version + c.postings
    FROM (SELECT wallet_id, asset, count(*) AS postings FROM migration_0008_moves GROUP BY wallet_id, asset) c
   WHERE a.purpose = 'legacy' AND a.wallet_id = c.wallet_id AND a.asset = c.asset;

  DROP TABLE migration_0008_moves;
  DROP TABLE migration_0008_journals;
END
$$;--> statement-breakpoint

ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_purpose_check" CHECK (("ledger_accounts"."bucket" = 'locked') = ("ledger_accounts"."purpose" is not null)
        and ("ledger_accounts"."purpose" is null or "ledger_accounts"."purpose" in ('bet_escrow', 'short_collateral', 'order_reserve', 'legacy')));--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_reference_check" CHECK (("ledger_accounts"."reference" is not null) = ("ledger_accounts"."purpose" is not distinct from 'short_collateral'));--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_legacy_empty_check" CHECK ("ledger_accounts"."purpose" is distinct from 'legacy' or "ledger_accounts"."balance" = 0);
