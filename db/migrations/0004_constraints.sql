-- Repair before constraining. A media whose kind is not image|video|audio was created through the
-- prototype-key hole (contentType "constructor"): it was never an accepted type, its rows break every read
-- that lists them, and no code can process it. Such media are removed: their objects are queued for the
-- sweeper (which keeps any key another media still references) and the removal is recorded in the media's
-- history. Values no code ever writes are reset to the safest state the code knows.
INSERT INTO "storage_garbage" ("object_key", "delete_after")
  SELECT "object_key", now() FROM "media" WHERE "kind" NOT IN ('image', 'video', 'audio')
  UNION
  SELECT v."object_key", now() FROM "media_variant" v JOIN "media" m ON m."id" = v."media_id"
    WHERE m."kind" NOT IN ('image', 'video', 'audio')
  ON CONFLICT ("object_key") DO NOTHING;--> statement-breakpoint
INSERT INTO "media_event" ("media_id", "from_status", "to_status", "actor", "detail")
  SELECT "id", "status", 'deleted', 'migration:0004_constraints', jsonb_build_object('reason', 'invalid kind')
  FROM "media" WHERE "kind" NOT IN ('image', 'video', 'audio');--> statement-breakpoint
DELETE FROM "media" WHERE "kind" NOT IN ('image', 'video', 'audio');--> statement-breakpoint
UPDATE "media" SET "status" = 'failed', "failure_code" = 'processing_failed', "failure_detail" = 'unknown status repaired'
  WHERE "status" NOT IN ('awaiting_upload', 'processing', 'ready', 'failed', 'rejected', 'deleted');--> statement-breakpoint
UPDATE "media" SET "visibility" = 'private' WHERE "visibility" NOT IN ('private', 'public');--> statement-breakpoint
UPDATE "upload_session" SET "state" = 'aborted' WHERE "state" NOT IN ('open', 'completing', 'completed', 'aborted', 'expired');--> statement-breakpoint
ALTER TABLE "media" ADD CONSTRAINT "media_kind_check" CHECK ("media"."kind" in ('image', 'video', 'audio'));--> statement-breakpoint
ALTER TABLE "media" ADD CONSTRAINT "media_status_check" CHECK ("media"."status" in ('awaiting_upload', 'processing', 'ready', 'failed', 'rejected', 'deleted'));--> statement-breakpoint
ALTER TABLE "media" ADD CONSTRAINT "media_visibility_check" CHECK ("media"."visibility" in ('private', 'public'));--> statement-breakpoint
ALTER TABLE "upload_session" ADD CONSTRAINT "upload_session_state_check" CHECK ("upload_session"."state" in ('open', 'completing', 'completed', 'aborted', 'expired'));