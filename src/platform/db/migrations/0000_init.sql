CREATE TABLE "journal_transactions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "journal_transactions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"metadata" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_accounts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ledger_accounts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"code" text NOT NULL,
	"wallet_id" uuid,
	"asset" text NOT NULL,
	"bucket" text NOT NULL,
	"balance" numeric(38, 8),
	"version" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_accounts_code_unique" UNIQUE("code"),
	CONSTRAINT "ledger_accounts_id_asset_key" UNIQUE("id","asset"),
	CONSTRAINT "ledger_accounts_balance_non_negative_check" CHECK ("ledger_accounts"."balance" >= 0),
	CONSTRAINT "ledger_accounts_kind_check" CHECK (("ledger_accounts"."bucket" = 'system' and "ledger_accounts"."wallet_id" is null and "ledger_accounts"."balance" is null)
        or ("ledger_accounts"."bucket" in ('available', 'locked') and "ledger_accounts"."wallet_id" is not null and "ledger_accounts"."balance" is not null))
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ledger_entries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"journal_id" bigint NOT NULL,
	"account_id" bigint NOT NULL,
	"asset" text NOT NULL,
	"amount" numeric(38, 8) NOT NULL,
	"balance_before" numeric(38, 8),
	"balance_after" numeric(38, 8),
	"account_version" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_entries_amount_non_zero_check" CHECK ("ledger_entries"."amount" <> 0),
	CONSTRAINT "ledger_entries_balance_chain_check" CHECK (("ledger_entries"."balance_before" is null and "ledger_entries"."balance_after" is null and "ledger_entries"."account_version" is null)
        or ("ledger_entries"."balance_after" = "ledger_entries"."balance_before" + "ledger_entries"."amount" and "ledger_entries"."account_version" is not null))
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"wallet_id" uuid NOT NULL,
	"client_order_id" text,
	"symbol" text NOT NULL,
	"base_asset" text NOT NULL,
	"quote_asset" text NOT NULL,
	"side" text NOT NULL,
	"quantity" numeric(38, 8) NOT NULL,
	"price" numeric(38, 8) NOT NULL,
	"notional" numeric(38, 8) NOT NULL,
	"fee" numeric(38, 8) NOT NULL,
	"status" text NOT NULL,
	"journal_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_journal_id_unique" UNIQUE("journal_id"),
	CONSTRAINT "orders_user_client_order_id_key" UNIQUE("user_id","client_order_id"),
	CONSTRAINT "orders_side_check" CHECK ("orders"."side" in ('buy', 'sell')),
	CONSTRAINT "orders_status_check" CHECK ("orders"."status" = 'filled'),
	CONSTRAINT "orders_quantity_positive_check" CHECK ("orders"."quantity" > 0),
	CONSTRAINT "orders_price_positive_check" CHECK ("orders"."price" > 0),
	CONSTRAINT "orders_notional_positive_check" CHECK ("orders"."notional" > 0),
	CONSTRAINT "orders_fee_non_negative_check" CHECK ("orders"."fee" >= 0)
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"username" text NOT NULL,
	"email" text,
	"password_hash" text NOT NULL,
	"role" text DEFAULT 'user' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_role_check" CHECK ("users"."role" in ('user', 'admin')),
	CONSTRAINT "users_username_length_check" CHECK (char_length("users"."username") between 3 and 64)
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wallets_name_length_check" CHECK (char_length("wallets"."name") between 1 and 64)
);
--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_journal_id_journal_transactions_id_fk" FOREIGN KEY ("journal_id") REFERENCES "public"."journal_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_account_asset_fk" FOREIGN KEY ("account_id","asset") REFERENCES "public"."ledger_accounts"("id","asset") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_journal_id_journal_transactions_id_fk" FOREIGN KEY ("journal_id") REFERENCES "public"."journal_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ledger_accounts_wallet_id_idx" ON "ledger_accounts" USING btree ("wallet_id");--> statement-breakpoint
CREATE INDEX "ledger_entries_journal_id_idx" ON "ledger_entries" USING btree ("journal_id");--> statement-breakpoint
CREATE INDEX "ledger_entries_account_id_idx" ON "ledger_entries" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "orders_user_journal_idx" ON "orders" USING btree ("user_id","journal_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_lower_key" ON "users" USING btree (lower("username"));--> statement-breakpoint
CREATE INDEX "wallets_user_id_idx" ON "wallets" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_one_default_per_user_key" ON "wallets" USING btree ("user_id") WHERE "wallets"."is_default";