import { timedOut } from './errors.ts';

/** libvips counts whole seconds per pipeline; the call-wide deadline is checked as each one starts. */
export function secondsLeft(deadline: number): number {
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw timedOut();
  return Math.min(3600, Math.ceil(remaining / 1000));
}
