import { type StringOptions, Type } from '@sinclair/typebox';

/**
 * Characters no client string may carry into storage, logs or a person's screen: C0/C1 controls (NUL
 * among them, which PostgreSQL text cannot hold), DEL, the line and paragraph separators, and the bidi
 * controls that make `gpj.exe` read as `exe.jpg`. Zero-width joiners stay: emoji sequences need them.
 */
const forbidden = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069';

/**
 * Also refuses lone surrogates (PostgreSQL would store each as U+FFFD, so two different strings would
 * become one). Written to mean the same with and without the regex `u` flag: Ajv compiles patterns with
 * it, TypeBox's checker (the CLI) without, and a surrogate pair must pass under both.
 */
export const textPattern = `^(?:[^${forbidden}\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*$`;

const textRegExp = new RegExp(textPattern);

/** The same rule for text that does not arrive through a schema (token claims, URL paths). */
export function isCleanText(value: string): boolean {
  return textRegExp.test(value);
}

/** A client string that is stored or compared in PostgreSQL: bounded, printable, well-formed. */
export function Text(options: StringOptions & { maxLength: number }) {
  return Type.String({ minLength: 1, ...options, pattern: textPattern });
}

/**
 * A timestamp PostgreSQL and `Date` agree on: RFC 3339, years 1970–9999. Year 0000 passes the format but
 * not `timestamptz`.
 */
export function Timestamp(options: StringOptions = {}) {
  return Type.String({
    maxLength: 40,
    ...options,
    format: 'date-time',
    pattern: '^(19[7-9][0-9]|[2-9][0-9]{3})-',
  });
}

/** PostgreSQL `integer`: a cursor or position past it is a client error, not an overflow. */
export const int4Max = 2_147_483_647;
