/** Runs at most `limit` of the given tasks at once, the others in the order they asked. */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so `running` never drops between them.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
