CREATE TABLE "cost_basis" (
	"wallet_id" uuid NOT NULL,
	"asset" text NOT NULL,
	"quantity" numeric NOT NULL,
	"cost" numeric NOT NULL,
	"last_journal_id" bigint NOT NULL,
	CONSTRAINT "cost_basis_wallet_id_asset_pk" PRIMARY KEY("wallet_id","asset"),
	CONSTRAINT "cost_basis_quantity_non_negative_check" CHECK ("cost_basis"."quantity" >= 0)
);
--> statement-breakpoint
CREATE TABLE "wallet_pnl" (
	"wallet_id" uuid PRIMARY KEY NOT NULL,
	"realized_pnl" numeric NOT NULL,
	"last_journal_id" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cost_basis" ADD CONSTRAINT "cost_basis_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_pnl" ADD CONSTRAINT "wallet_pnl_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Backfill: the books of the fills written before this migration, replayed per wallet in journal
-- order exactly as src/modules/trading/cost-basis.ts bookFill() applies them with decimal.js
-- (precision 60, ROUND_HALF_UP): the result of every operation is rounded to 60 significant digits,
-- half away from zero. PostgreSQL's NUMERIC + − × are exact, so each is rounded afterwards; its
-- division is not correctly rounded, so the quotient is found by an exact integer division and a
-- look at the remainder. The three helpers are dropped at the end.
CREATE FUNCTION cost_basis_exponent(a numeric) RETURNS int
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
-- e with 10^e <= a < 10^(e+1), for a > 0: log10's estimate corrected by exact comparisons.
DECLARE
  e int := floor(log(a));
BEGIN
  WHILE a >= ('1e' || (e + 1))::numeric LOOP e := e + 1; END LOOP;
  WHILE a < ('1e' || e)::numeric LOOP e := e - 1; END LOOP;
  RETURN e;
END
$$;
--> statement-breakpoint
CREATE FUNCTION cost_basis_round(x numeric) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
-- x rounded to 60 significant digits, half away from zero (decimal.js's ROUND_HALF_UP), without
-- trailing zeros (as decimal.js writes it).
BEGIN
  IF x = 0 THEN RETURN 0; END IF;
  RETURN trim_scale(round(x, 59 - cost_basis_exponent(abs(x))));
END
$$;
--> statement-breakpoint
CREATE FUNCTION cost_basis_div(a numeric, b numeric) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
-- a / b correctly rounded to 60 significant digits, half away from zero, for b <> 0.
DECLARE
  e int;
  k int;
  n numeric;
  t numeric;
BEGIN
  IF a = 0 THEN RETURN 0; END IF;
  -- the quotient's exponent is the exponents' difference or one less
  e := cost_basis_exponent(abs(a)) - cost_basis_exponent(abs(b));
  IF abs(a) < abs(b) * ('1e' || e)::numeric THEN e := e - 1; END IF;
  k := 59 - e;
  n := abs(a) * ('1e' || k)::numeric;
  t := div(n, abs(b));
  IF 2 * (n - t * abs(b)) >= abs(b) THEN t := t + 1; END IF;
  RETURN trim_scale(sign(a) * sign(b) * t * ('1e' || (-k))::numeric);
END
$$;
--> statement-breakpoint
DO $$
DECLARE
  w uuid;
  f record;
  -- the books of the wallet being replayed: asset → [quantity, cost, last journal id]
  books jsonb;
  b_quantity numeric;
  b_cost numeric;
  sold numeric;
  sold_cost numeric;
  realized numeric;
  realized_journal_id bigint;
BEGIN
  -- No fill may be written while the books are computed (this runs in the migration's transaction).
  LOCK TABLE orders IN SHARE MODE;
  FOR w IN SELECT DISTINCT wallet_id FROM orders WHERE side <> 'short' ORDER BY wallet_id LOOP
    books := '{}';
    realized := 0;
    realized_journal_id := NULL;
    FOR f IN
      SELECT base_asset, side, quantity, notional, fee, realized_pnl, journal_id
        FROM orders WHERE wallet_id = w AND side <> 'short' ORDER BY journal_id
    LOOP
      IF f.side = 'close_short' THEN
        realized := cost_basis_round(realized + f.realized_pnl);
        realized_journal_id := f.journal_id;
        CONTINUE;
      END IF;
      b_quantity := coalesce((books -> f.base_asset ->> 0)::numeric, 0);
      b_cost := coalesce((books -> f.base_asset ->> 1)::numeric, 0);
      IF f.side = 'buy' THEN
        b_quantity := cost_basis_round(b_quantity + f.quantity);
        b_cost := cost_basis_round(cost_basis_round(b_cost + f.notional) + f.fee);
      ELSE
        sold := least(f.quantity, b_quantity);
        sold_cost := CASE WHEN b_quantity > 0
          THEN cost_basis_div(cost_basis_round(b_cost * sold), b_quantity) ELSE 0 END;
        b_quantity := cost_basis_round(b_quantity - sold);
        b_cost := cost_basis_round(b_cost - sold_cost);
        realized := cost_basis_round(realized
          + cost_basis_round(cost_basis_round(f.notional - f.fee) - sold_cost));
        realized_journal_id := f.journal_id;
      END IF;
      books := jsonb_set(books, ARRAY[f.base_asset], jsonb_build_array(b_quantity, b_cost, f.journal_id));
    END LOOP;
    INSERT INTO cost_basis (wallet_id, asset, quantity, cost, last_journal_id)
    SELECT w, key, (value ->> 0)::numeric, (value ->> 1)::numeric, (value ->> 2)::bigint
      FROM jsonb_each(books) ORDER BY key;
    IF realized_journal_id IS NOT NULL THEN
      INSERT INTO wallet_pnl (wallet_id, realized_pnl, last_journal_id) VALUES (w, realized, realized_journal_id);
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
DROP FUNCTION cost_basis_div(numeric, numeric);
--> statement-breakpoint
DROP FUNCTION cost_basis_round(numeric);
--> statement-breakpoint
DROP FUNCTION cost_basis_exponent(numeric);
