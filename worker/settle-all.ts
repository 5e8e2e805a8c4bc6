/**
 * `Promise.all` that waits for every promise to settle before it rejects with the first failure. A job's
 * parallel steps write into and read from its temp dir; the job removes that dir as soon as it unwinds, so a
 * sibling still running then would find its file gone (or recreate it) after the cleanup.
 */
export async function settleAll<T extends readonly unknown[]>(
  work: {
    readonly [K in keyof T]: Promise<T[K]>;
  },
): Promise<T> {
  const settled = await Promise.allSettled(work as readonly Promise<unknown>[]);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
