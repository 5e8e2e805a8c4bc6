CREATE INDEX "media_created_idx" ON "media" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "media_event_at_idx" ON "media_event" USING btree ("at");--> statement-breakpoint
CREATE INDEX "storage_garbage_due_idx" ON "storage_garbage" USING btree ("delete_after");