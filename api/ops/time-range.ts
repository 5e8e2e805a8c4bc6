import { AppError } from '../../contracts/errors.ts';

/**
 * A range whose `from` is later than its `to` selects nothing: the caller swapped them, and is told so
 * rather than answered with an empty list. Either end may be absent.
 */
export function assertOrderedRange(range: { from?: string; to?: string }): void {
  if (range.from === undefined || range.to === undefined) return;
  if (Date.parse(range.from) > Date.parse(range.to)) {
    throw new AppError('validation_failed', '`from` must not be later than `to`');
  }
}
