-- Ledger invariants enforced by PostgreSQL itself: the second half of the pair assertion whose first
-- half is the TypeScript check in modules/ledger/journal.ts.

-- 1. Every journal's entries sum to zero per asset. Entries of one journal are inserted by one
--    statement; the check sums all entries of each journal that statement touched, so an entry
--    added to an existing journal later is caught as well.
CREATE FUNCTION ledger_entries_check_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT e.journal_id, e.asset, sum(e.amount) AS total
    INTO bad
    FROM ledger_entries e
   WHERE e.journal_id IN (SELECT DISTINCT journal_id FROM new_entries)
   GROUP BY e.journal_id, e.asset
  HAVING sum(e.amount) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal % does not balance in %: entries sum to %', bad.journal_id, bad.asset, bad.total
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_balanced
  AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_check_balanced();
--> statement-breakpoint

-- 2. The ledger is append-only: a mistake is undone by a reversing journal, never by an edit.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_append_only
  BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
--> statement-breakpoint
CREATE TRIGGER journal_transactions_append_only
  BEFORE UPDATE OR DELETE ON journal_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
--> statement-breakpoint
CREATE TRIGGER ledger_entries_no_truncate
  BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
