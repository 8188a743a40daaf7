ALTER TABLE "bets" DROP CONSTRAINT "bets_settled_fields_check";--> statement-breakpoint
ALTER TABLE "bets" ADD COLUMN "end_price_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "bets" ADD COLUMN "settlement_error" text;--> statement-breakpoint
-- Bets settled before this migration were priced at their settlement instant.
UPDATE "bets" SET "end_price_at" = "settled_at" WHERE "status" = 'completed';--> statement-breakpoint
ALTER TABLE "bets" ADD CONSTRAINT "bets_settled_fields_check" CHECK (("bets"."status" = 'pending' and "bets"."end_price" is null and "bets"."end_price_at" is null and "bets"."result" is null and "bets"."profit" is null and "bets"."settled_at" is null and "bets"."settle_journal_id" is null)
       or ("bets"."status" = 'completed' and "bets"."end_price" > 0 and "bets"."end_price_at" is not null and "bets"."result" is not null and "bets"."profit" is not null and "bets"."settled_at" is not null and "bets"."settle_journal_id" is not null and "bets"."settlement_error" is null));