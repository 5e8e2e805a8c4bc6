CREATE TABLE "moderation_verdict" (
	"content_hash" text PRIMARY KEY NOT NULL,
	"verdict" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_event" (
	"vendor" text NOT NULL,
	"event_id" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_event_vendor_event_id_pk" PRIMARY KEY("vendor","event_id")
);
--> statement-breakpoint
ALTER TABLE "media" ADD COLUMN "moderation_status" text;--> statement-breakpoint
ALTER TABLE "media" ADD COLUMN "moderation_job_id" text;