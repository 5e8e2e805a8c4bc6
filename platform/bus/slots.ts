/** A counting semaphore, first come first served, whose waiters give up when `signal` aborts. */
export function createSlots(size: number) {
  let free = size;
  const waiters: (() => void)[] = [];
  return {
    /** False when the signal aborted before a slot was free. */
    acquire(signal: AbortSignal): Promise<boolean> {
      if (signal.aborted) return Promise.resolve(false);
      if (free > 0) {
        free--;
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        const grant = () => {
          signal.removeEventListener('abort', abort);
          resolve(true);
        };
        const abort = () => {
          waiters.splice(waiters.indexOf(grant), 1);
          resolve(false);
        };
        waiters.push(grant);
        signal.addEventListener('abort', abort, { once: true });
      });
    },
    release() {
      const next = waiters.shift();
      if (next) next();
      else free++;
    },
  };
}
