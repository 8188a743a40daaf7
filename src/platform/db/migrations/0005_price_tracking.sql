CREATE TABLE "tracked_cryptos" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"symbol" text NOT NULL,
	"coingecko_id" text NOT NULL,
	"name" text NOT NULL,
	"current_price" numeric(38, 8) NOT NULL,
	"last_updated" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tracked_cryptos_symbol_key" UNIQUE("symbol"),
	CONSTRAINT "tracked_cryptos_symbol_check" CHECK ("tracked_cryptos"."symbol" ~ '^[A-Z0-9]{1,20}$'),
	CONSTRAINT "tracked_cryptos_current_price_positive_check" CHECK ("tracked_cryptos"."current_price" > 0)
);
--> statement-breakpoint
CREATE TABLE "tracked_price_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tracked_id" uuid NOT NULL,
	"price" numeric(38, 8) NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "tracked_price_history_price_positive_check" CHECK ("tracked_price_history"."price" > 0)
);
--> statement-breakpoint
ALTER TABLE "tracked_price_history" ADD CONSTRAINT "tracked_price_history_tracked_id_tracked_cryptos_id_fk" FOREIGN KEY ("tracked_id") REFERENCES "public"."tracked_cryptos"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tracked_price_history_newest_idx" ON "tracked_price_history" USING btree ("tracked_id","recorded_at" DESC NULLS LAST,"id" DESC NULLS LAST);