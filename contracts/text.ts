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

/**
 * Invisible characters: Unicode format characters (zero-width space and joiners, word joiner, BOM,
 * interlinear annotations, tags…) and the other default-ignorables (Hangul fillers, variation selectors).
 * `alice` and `alice\u200b` look the same in every log and console, so an identifier carries none.
 */
const invisible = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/**
 * Blanks that read as a plain space or as nothing: every space separator but U+0020 (no-break, en, em,
 * ideographic, …) and the Braille blank U+2800; and a space at either end, which no one sees either.
 */
const blank = /[\p{Zs}\u2800]/u;
const edgeSpace = /^ | $/;

/**
 * Text that names someone (a token's `sub`): clean, nothing in it that a person cannot see or tell from a
 * space, and in NFC, so `a\u0301` (a + combining acute) is not a second user drawn as `á`.
 */
export function isCleanIdentifier(value: string): boolean {
  return (
    isCleanText(value) &&
    !invisible.test(value) &&
    !blank.test(value.replaceAll(' ', '')) &&
    !edgeSpace.test(value) &&
    value.normalize('NFC') === value
  );
}

/** A client string that is stored or compared in PostgreSQL: bounded, printable, well-formed. */
export function Text(options: StringOptions & { maxLength: number }) {
  return Type.String({ minLength: 1, ...options, pattern: textPattern });
}

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const earliest = Date.UTC(1970, 0, 1);
const latest = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * True for an RFC 3339 date-time whose INSTANT lies in 1970…9999 UTC, the range PostgreSQL `timestamptz`
 * and `Date` agree on. The text alone is not enough: `9999-12-31T23:59:59-23:59` reads as 9999 but is a
 * moment of year 10000 (PostgreSQL: "time zone displacement out of range"), a leap second (`23:59:60`)
 * is valid RFC 3339 that `Date` cannot hold, and `Date.parse` alone would take `02-30` or `24:00`.
 */
export function isTimestamp(value: string): boolean {
  const match = rfc3339.exec(value);
  if (!match) return false;
  const part = (index: number) => Number(match[index] ?? 0);
  const [year, month, day] = [part(1), part(2), part(3)];
  if (month < 1 || month > 12 || new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return false;
  if (part(4) > 23 || part(5) > 59 || part(6) > 59 || part(7) > 23 || part(8) > 59) return false;
  const instant = Date.parse(value.toUpperCase().replace(' ', 'T'));
  return Number.isFinite(instant) && instant >= earliest && instant <= latest;
}

/**
 * A timestamp a client sends: RFC 3339 within 1970…9999 UTC by the instant it denotes. Its `date-time`
 * format is checked by `isTimestamp` wherever requests are validated (the API's Ajv, the CLI's checker),
 * so every date field of every route gets the same rule.
 */
export function Timestamp(options: StringOptions = {}) {
  return Type.String({ maxLength: 40, ...options, format: 'date-time' });
}
