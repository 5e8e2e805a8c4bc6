import pg from 'pg';

/**
 * SQLSTATEs that PostgreSQL raises for a value it was handed, not for the query or the server: the class 22
 * (data exception) codes a request value can trigger — NUL or a bad byte in text (22021), `\u0000` in
 * jsonb (22P05), text that is not the column's type (22P02), a number or interval past its type (22003,
 * 22015), a date outside the calendar or a time zone offset past ±15:59 (22008, 22007, 22009), text longer
 * than its column (22001), a bad LIKE or regex pattern (22025, 2201B) — and a row too large for an index
 * (54000). Schemas refuse these at the boundary; this is the backstop for any field they missed, so a
 * crafted value answers 400 rather than 500.
 */
const inputSqlStates = new Map([
  ['22021', 'contains a byte sequence the database cannot store (NUL or invalid UTF-8)'],
  ['22P05', 'contains a character the database cannot store (\\u0000)'],
  ['22P02', 'is not valid text for its type'],
  ['22003', 'is out of range'],
  ['22015', 'is out of range'],
  ['22008', 'is outside the supported dates'],
  ['22007', 'is not a valid date or time'],
  ['22009', 'has a time zone offset out of range'],
  ['22001', 'is too long'],
  ['22025', 'is not a valid pattern'],
  ['2201B', 'is not a valid pattern'],
  ['54000', 'is too large to store or index'],
]);

/**
 * The client-facing detail when the error (or an error in its `cause` chain: drizzle wraps the driver's)
 * is PostgreSQL refusing an input value; undefined otherwise. The detail names no SQL and no column.
 */
export function databaseInputError(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (current instanceof pg.DatabaseError && current.code) {
      const what = inputSqlStates.get(current.code);
      if (what) return `A value in the request ${what}`;
    }
    current = current.cause;
  }
  return undefined;
}
