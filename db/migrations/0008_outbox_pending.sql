CREATE TABLE "outbox_pending" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"id" uuid NOT NULL
);
--> statement-breakpoint
-- Every insert into the outbox, whoever makes it (an api of the previous release still running during a
-- rolling upgrade included), lists its rows as pending in the same statement and wakes the relay on commit.
CREATE FUNCTION "outbox_list_pending"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "outbox_pending" ("seq", "id") SELECT "seq", "id" FROM "inserted" WHERE "published_at" IS NULL;
	PERFORM pg_notify('mediagate_outbox', '');
	RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "outbox_list_pending" AFTER INSERT ON "outbox" REFERENCING NEW TABLE AS "inserted"
	FOR EACH STATEMENT EXECUTE FUNCTION "outbox_list_pending"();
--> statement-breakpoint
-- Rows committed before the trigger existed and not yet published stay pending: an upgrade loses none. The
-- trigger's creation waited for every insert in flight, and holds off new ones until this commits.
INSERT INTO "outbox_pending" ("seq", "id") SELECT "seq", "id" FROM "outbox" WHERE "published_at" IS NULL;
--> statement-breakpoint
DROP INDEX "outbox_unpublished_idx";
--> statement-breakpoint
-- Room on each page for the one update a row gets when published, so that it stays a HOT update (no index
-- entry written); applies to pages written from now on.
ALTER TABLE "outbox" SET (fillfactor = 50);
