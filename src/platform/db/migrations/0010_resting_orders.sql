-- Resting orders (limit, stop and take-profit types, OCO lists): an order may rest unfilled, so its
-- fill columns become nullable and say how it filled; what it reserves is recorded with it.
CREATE TABLE "order_lists" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"wallet_id" uuid NOT NULL,
	"symbol" text NOT NULL,
	"status" text NOT NULL,
	"reserve_asset" text NOT NULL,
	"reserved" numeric(38, 8) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_lists_status_check" CHECK ("order_lists"."status" in ('open', 'done')),
	CONSTRAINT "order_lists_reserved_check" CHECK ("order_lists"."reserved" >= 0 and ("order_lists"."status" = 'open' or "order_lists"."reserved" = 0))
);
--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_price_positive_check";--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_status_check";--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_position_check";--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_close_fields_check";--> statement-breakpoint
DROP INDEX "orders_user_journal_idx";--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "price" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "notional" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "fee" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "journal_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "type" text DEFAULT 'market' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "time_in_force" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "stop_price" numeric(38, 8);--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "avg_fill_price" numeric(38, 8);--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "liquidity" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "reserve_asset" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "reserved" numeric(38, 8) DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "order_list_id" uuid;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "replaced_by" uuid;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "triggered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "seq" bigint;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
-- The orders written before resting orders existed: market orders filled at once by a taker fill;
-- their fill price moves to avg_fill_price (price is now the limit price), and they keep their
-- place in their owner's list (seq, which was their journal id).
UPDATE "orders" SET "avg_fill_price" = "price", "price" = NULL, "liquidity" = 'taker', "seq" = "journal_id";--> statement-breakpoint
CREATE SEQUENCE "orders_seq";--> statement-breakpoint
SELECT setval('orders_seq', coalesce((SELECT max("seq") FROM "orders"), 0) + 1, false);--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "seq" SET DEFAULT nextval('orders_seq');--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "seq" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "order_lists" ADD CONSTRAINT "order_lists_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_lists" ADD CONSTRAINT "order_lists_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "order_lists_wallet_open_idx" ON "order_lists" USING btree ("wallet_id") WHERE "order_lists"."status" = 'open';--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_order_list_id_order_lists_id_fk" FOREIGN KEY ("order_list_id") REFERENCES "public"."order_lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "orders_user_seq_idx" ON "orders" USING btree ("user_id","seq");--> statement-breakpoint
CREATE INDEX "orders_open_symbol_idx" ON "orders" USING btree ("symbol") WHERE "orders"."status" = 'new';--> statement-breakpoint
CREATE INDEX "orders_open_wallet_idx" ON "orders" USING btree ("wallet_id","symbol") WHERE "orders"."status" = 'new';--> statement-breakpoint
CREATE INDEX "orders_open_position_idx" ON "orders" USING btree ("position_id") WHERE "orders"."status" = 'new';--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_type_check" CHECK ("orders"."type" in ('market', 'limit', 'limit_maker', 'stop_loss', 'stop_loss_limit', 'take_profit', 'take_profit_limit'));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_prices_check" CHECK (("orders"."type" in ('limit', 'limit_maker', 'stop_loss_limit', 'take_profit_limit')) = ("orders"."price" is not null)
        and ("orders"."type" in ('stop_loss', 'stop_loss_limit', 'take_profit', 'take_profit_limit')) = ("orders"."stop_price" is not null)
        and ("orders"."type" in ('limit', 'stop_loss_limit', 'take_profit_limit')) = ("orders"."time_in_force" is not null)
        and ("orders"."price" is null or "orders"."price" > 0) and ("orders"."stop_price" is null or "orders"."stop_price" > 0));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_fill_check" CHECK (("orders"."status" = 'filled') = ("orders"."journal_id" is not null)
        and ("orders"."status" = 'filled') = ("orders"."avg_fill_price" is not null and "orders"."notional" is not null and "orders"."fee" is not null and "orders"."liquidity" is not null));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_avg_fill_price_positive_check" CHECK ("orders"."avg_fill_price" > 0);--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_reserved_check" CHECK ("orders"."reserved" >= 0 and ("orders"."status" = 'new' or "orders"."reserved" = 0)
        and ("orders"."reserved" = 0 or "orders"."reserve_asset" is not null));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_status_check" CHECK ("orders"."status" in ('new', 'filled', 'canceled', 'expired', 'rejected'));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_position_check" CHECK (("orders"."side" = 'close_short' or ("orders"."side" = 'short' and "orders"."status" = 'filled')) = ("orders"."position_id" is not null));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_close_fields_check" CHECK (("orders"."side" = 'close_short' and "orders"."status" = 'filled') = ("orders"."realized_pnl" is not null) and (not "orders"."liquidation" or "orders"."side" = 'close_short'));