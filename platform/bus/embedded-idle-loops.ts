interface Sleeper {
  resume(): void;
  poll?: NodeJS.Timeout;
}

/**
 * The subscription's idle fetch loops. Exactly one of them, whichever is idle, holds the poll timer, so a queue
 * whose notifications were lost is still looked at every `pollMs`, and a long job on one loop never delays
 * that look. A publish resumes one idle loop; a loop that claims a message resumes the next, so N messages
 * published at once still run N-wide, one fetch each, while one message costs one fetch rather than one
 * per loop. A publish that finds no loop idle is remembered until a fetch starts: a loop whose fetch began
 * before the insert looks again instead of sleeping on it.
 */
export function createIdleLoops(pollMs: number) {
  const sleeping: Sleeper[] = [];
  let poller: Sleeper | undefined;
  let unseenPublish = false;

  const appoint = (sleeper: Sleeper) => {
    poller = sleeper;
    sleeper.poll = setTimeout(() => sleeper.resume(), pollMs);
  };
  const leave = (sleeper: Sleeper) => {
    const at = sleeping.indexOf(sleeper);
    if (at < 0) return;
    sleeping.splice(at, 1);
    clearTimeout(sleeper.poll);
    if (poller !== sleeper) return;
    poller = undefined;
    const next = sleeping[0];
    if (next) appoint(next);
  };
  const wakeOne = () => {
    const sleeper = sleeping[0];
    sleeper?.resume();
    return sleeper !== undefined;
  };

  return {
    /** Sleeps until resumed: by a publish, a loop that found work, the poll timer or a stop. */
    idle(): Promise<void> {
      if (unseenPublish) {
        unseenPublish = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const sleeper: Sleeper = {
          resume() {
            leave(sleeper);
            resolve();
          },
        };
        sleeping.push(sleeper);
        if (!poller) appoint(sleeper);
      });
    },
    /** A fetch is starting: it sees every message published so far. */
    fetching() {
      unseenPublish = false;
    },
    wakeOne,
    published() {
      if (!wakeOne()) unseenPublish = true;
    },
    wakeAll() {
      for (const sleeper of [...sleeping]) sleeper.resume();
    },
  };
}
