CREATE TABLE "bets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"wallet_id" uuid NOT NULL,
	"symbol" text NOT NULL,
	"quote_asset" text NOT NULL,
	"direction" text NOT NULL,
	"stake" numeric(38, 8) NOT NULL,
	"leverage" integer NOT NULL,
	"duration_ms" bigint NOT NULL,
	"start_price" numeric(38, 8) NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"end_price" numeric(38, 8),
	"result" text,
	"profit" numeric(38, 8),
	"settled_at" timestamp with time zone,
	"late" boolean DEFAULT false NOT NULL,
	"place_journal_id" bigint NOT NULL,
	"settle_journal_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bets_place_journal_id_unique" UNIQUE("place_journal_id"),
	CONSTRAINT "bets_settle_journal_id_unique" UNIQUE("settle_journal_id"),
	CONSTRAINT "bets_direction_check" CHECK ("bets"."direction" in ('up', 'down')),
	CONSTRAINT "bets_status_check" CHECK ("bets"."status" in ('pending', 'completed')),
	CONSTRAINT "bets_result_check" CHECK ("bets"."result" is null or "bets"."result" in ('W', 'L', 'D')),
	CONSTRAINT "bets_stake_positive_check" CHECK ("bets"."stake" > 0),
	CONSTRAINT "bets_leverage_positive_check" CHECK ("bets"."leverage" >= 1),
	CONSTRAINT "bets_duration_positive_check" CHECK ("bets"."duration_ms" > 0),
	CONSTRAINT "bets_start_price_positive_check" CHECK ("bets"."start_price" > 0),
	CONSTRAINT "bets_loss_within_stake_check" CHECK ("bets"."profit" is null or "bets"."profit" >= -"bets"."stake"),
	CONSTRAINT "bets_settled_fields_check" CHECK (("bets"."status" = 'pending' and "bets"."end_price" is null and "bets"."result" is null and "bets"."profit" is null and "bets"."settled_at" is null and "bets"."settle_journal_id" is null)
       or ("bets"."status" = 'completed' and "bets"."end_price" > 0 and "bets"."result" is not null and "bets"."profit" is not null and "bets"."settled_at" is not null and "bets"."settle_journal_id" is not null))
);
--> statement-breakpoint
ALTER TABLE "bets" ADD CONSTRAINT "bets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bets" ADD CONSTRAINT "bets_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bets" ADD CONSTRAINT "bets_place_journal_id_journal_transactions_id_fk" FOREIGN KEY ("place_journal_id") REFERENCES "public"."journal_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bets" ADD CONSTRAINT "bets_settle_journal_id_journal_transactions_id_fk" FOREIGN KEY ("settle_journal_id") REFERENCES "public"."journal_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bets_user_place_journal_idx" ON "bets" USING btree ("user_id","place_journal_id");--> statement-breakpoint
CREATE INDEX "bets_pending_due_idx" ON "bets" USING btree ("due_at") WHERE "bets"."status" = 'pending';