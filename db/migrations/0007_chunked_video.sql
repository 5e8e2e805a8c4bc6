CREATE TABLE "video_chunk" (
	"media_id" uuid NOT NULL,
	"request_id" uuid NOT NULL,
	"quality" text NOT NULL,
	"chunk_index" integer NOT NULL,
	"state" text NOT NULL,
	"object_key" text,
	"bytes" bigint,
	"worker" text,
	"encoded" boolean DEFAULT true NOT NULL,
	"detail" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "video_chunk_media_id_request_id_quality_chunk_index_pk" PRIMARY KEY("media_id","request_id","quality","chunk_index"),
	CONSTRAINT "video_chunk_state_check" CHECK ("video_chunk"."state" in ('done', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "video_output" (
	"media_id" uuid NOT NULL,
	"request_id" uuid NOT NULL,
	"quality" text NOT NULL,
	"output" jsonb,
	"failure" text,
	CONSTRAINT "video_output_media_id_request_id_quality_pk" PRIMARY KEY("media_id","request_id","quality")
);
--> statement-breakpoint
CREATE TABLE "video_plan" (
	"media_id" uuid NOT NULL,
	"request_id" uuid NOT NULL,
	"chunk_count" integer NOT NULL,
	"chunk_seconds" jsonb NOT NULL,
	"sha256" text,
	"metadata" jsonb NOT NULL,
	"with_audio" boolean NOT NULL,
	"still_count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "video_plan_media_id_request_id_pk" PRIMARY KEY("media_id","request_id")
);
--> statement-breakpoint
CREATE TABLE "video_rung" (
	"media_id" uuid NOT NULL,
	"request_id" uuid NOT NULL,
	"quality" text NOT NULL,
	"ordinal" integer NOT NULL,
	"bandwidth" integer NOT NULL,
	"rendition" jsonb NOT NULL,
	"state" text DEFAULT 'chunks' NOT NULL,
	"detail" text,
	CONSTRAINT "video_rung_media_id_request_id_quality_pk" PRIMARY KEY("media_id","request_id","quality"),
	CONSTRAINT "video_rung_state_check" CHECK ("video_rung"."state" in ('chunks', 'assembling', 'assembled', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "video_chunk" ADD CONSTRAINT "video_chunk_media_id_media_id_fk" FOREIGN KEY ("media_id") REFERENCES "public"."media"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "video_output" ADD CONSTRAINT "video_output_media_id_media_id_fk" FOREIGN KEY ("media_id") REFERENCES "public"."media"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "video_plan" ADD CONSTRAINT "video_plan_media_id_media_id_fk" FOREIGN KEY ("media_id") REFERENCES "public"."media"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "video_rung" ADD CONSTRAINT "video_rung_media_id_media_id_fk" FOREIGN KEY ("media_id") REFERENCES "public"."media"("id") ON DELETE cascade ON UPDATE no action;