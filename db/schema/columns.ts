import { sql } from 'drizzle-orm';
import { type AnyPgColumn, timestamp } from 'drizzle-orm/pg-core';

/**
 * The database refuses values outside an enum column's list: a row the code cannot read (a `kind` it has no
 * branch for) would break every page that lists it, so it must never be written.
 */
export const oneOf = (column: AnyPgColumn, values: readonly string[]) =>
  sql`${column} in (${sql.raw(values.map((v) => `'${v}'`).join(', '))})`;

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
