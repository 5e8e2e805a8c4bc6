import { FormatRegistry } from '@sinclair/typebox';
import { uuidPattern } from './ids.ts';
import { isTimestamp } from './text.ts';

const uuid = new RegExp(uuidPattern);

/**
 * TypeBox's own checker (`Value.Check`) knows no string format by itself and fails every value of one it
 * does not know; Fastify's validator has its own. The rules registered are the contracts' own, so a
 * consumer checking an event with TypeBox accepts exactly what the producer may write.
 */
export function registerContractFormats(): void {
  if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (value) => uuid.test(value));
  if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isTimestamp);
}
