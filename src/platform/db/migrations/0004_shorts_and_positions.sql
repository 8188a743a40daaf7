CREATE TABLE "positions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"wallet_id" uuid NOT NULL,
	"symbol" text NOT NULL,
	"base_asset" text NOT NULL,
	"quote_asset" text NOT NULL,
	"status" text NOT NULL,
	"quantity" numeric(38, 8) NOT NULL,
	"entry_price" numeric(38, 8) NOT NULL,
	"collateral" numeric(38, 8) NOT NULL,
	"margin" numeric(38, 8) NOT NULL,
	"open_fees" numeric(38, 8) NOT NULL,
	"realized_pnl" numeric(38, 8) DEFAULT '0' NOT NULL,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	CONSTRAINT "positions_status_check" CHECK (("positions"."status" = 'open' and "positions"."quantity" > 0 and "positions"."closed_at" is null)
        or ("positions"."status" = 'closed' and "positions"."quantity" = 0 and "positions"."collateral" = 0 and "positions"."margin" = 0 and "positions"."closed_at" is not null)),
	CONSTRAINT "positions_entry_price_positive_check" CHECK ("positions"."entry_price" > 0),
	CONSTRAINT "positions_collateral_non_negative_check" CHECK ("positions"."collateral" >= 0 and "positions"."margin" >= 0),
	CONSTRAINT "positions_margin_within_collateral_check" CHECK ("positions"."margin" <= "positions"."collateral"),
	CONSTRAINT "positions_open_fees_non_negative_check" CHECK ("positions"."open_fees" >= 0)
);
--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_side_check";--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "position_id" uuid;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "realized_pnl" numeric(38, 8);--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "liquidation" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "positions" ADD CONSTRAINT "positions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "positions" ADD CONSTRAINT "positions_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "positions_one_open_per_wallet_symbol_key" ON "positions" USING btree ("wallet_id","symbol") WHERE "positions"."status" = 'open';--> statement-breakpoint
CREATE INDEX "positions_user_status_idx" ON "positions" USING btree ("user_id","status");--> statement-breakpoint
CREATE INDEX "positions_open_symbol_idx" ON "positions" USING btree ("symbol") WHERE "positions"."status" = 'open';--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_position_id_positions_id_fk" FOREIGN KEY ("position_id") REFERENCES "public"."positions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "orders_wallet_journal_idx" ON "orders" USING btree ("wallet_id","journal_id");--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_position_check" CHECK (("orders"."side" in ('short', 'close_short')) = ("orders"."position_id" is not null));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_close_fields_check" CHECK (("orders"."side" = 'close_short') = ("orders"."realized_pnl" is not null) and (not "orders"."liquidation" or "orders"."side" = 'close_short'));--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_side_check" CHECK ("orders"."side" in ('buy', 'sell', 'short', 'close_short'));