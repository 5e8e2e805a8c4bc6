// The database's tables, by area; drizzle-kit reads this file (drizzle.config.ts) and the code imports from it.
export * from './schema/media.ts';
export * from './schema/outbox.ts';
export * from './schema/video.ts';
export * from './schema/webhooks.ts';
