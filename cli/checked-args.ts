import { FormatRegistry, KindGuard, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { uuidPattern } from '../contracts/ids.ts';
import { isTimestamp } from '../contracts/text.ts';

// The HTTP routes check these formats through Fastify's validator; TypeBox's own checker knows none by
// itself. The rules are the contracts' own, so an id or a date the route refuses is refused here too.
const uuid = new RegExp(uuidPattern);
FormatRegistry.Set('uuid', (value) => uuid.test(value));
FormatRegistry.Set('date-time', isTimestamp);

/**
 * What an operator typed, checked against the same contract as the matching ops route, so that the CLI and
 * the API accept exactly the same requests.
 */
export function checked<T extends TSchema>(schema: T, value: unknown, usage: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  // "Expected union value" explains nothing: the variant closest to what was typed names the mistake.
  const variants: TSchema[] = KindGuard.IsUnion(schema) ? schema.anyOf : [schema];
  const [error] =
    variants.map((variant) => [...Value.Errors(variant, value)]).sort((a, b) => a.length - b.length)[0] ?? [];
  throw new Error(`${error?.path || 'arguments'}: ${error?.message ?? 'invalid'}\n${usage}`);
}
