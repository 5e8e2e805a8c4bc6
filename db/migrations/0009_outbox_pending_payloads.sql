-- Batches the broker acknowledged, owed their outbox rows' published_at: the relay writes one row per batch
-- as it takes the batch out of outbox_pending, and stamps the outbox from them in bulk.
CREATE TABLE "outbox_published_batch" (
	"published_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ids" uuid[] NOT NULL
);
--> statement-breakpoint
-- Each pending row carries what the relay sends, so the relay reads no outbox row. The table is locked from
-- here to the commit: no insert can list a row between the copy below and the new trigger.
ALTER TABLE "outbox_pending" ADD COLUMN "aggregate_id" uuid, ADD COLUMN "topic" text, ADD COLUMN "event_type" text,
	ADD COLUMN "payload" jsonb, ADD COLUMN "headers" jsonb, ADD COLUMN "traceparent" text;
--> statement-breakpoint
UPDATE "outbox_pending" p SET "aggregate_id" = o."aggregate_id", "topic" = o."topic", "event_type" = o."event_type",
	"payload" = o."payload", "headers" = o."headers", "traceparent" = o."traceparent"
	FROM "outbox" o WHERE o."id" = p."id";
--> statement-breakpoint
ALTER TABLE "outbox_pending" ALTER COLUMN "aggregate_id" SET NOT NULL, ALTER COLUMN "topic" SET NOT NULL,
	ALTER COLUMN "event_type" SET NOT NULL, ALTER COLUMN "payload" SET NOT NULL, ALTER COLUMN "headers" SET NOT NULL;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "outbox_list_pending"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "outbox_pending" ("seq", "id", "aggregate_id", "topic", "event_type", "payload", "headers", "traceparent")
		SELECT "seq", "id", "aggregate_id", "topic", "event_type", "payload", "headers", "traceparent"
		FROM "inserted" WHERE "published_at" IS NULL;
	PERFORM pg_notify('mediagate_outbox', '');
	RETURN NULL;
END
$$;
