/** Why an idle loop woke: a publish (which woke as many loops as it brought messages) or anything else. */
export type Wake = 'published' | 'other';

interface Sleeper {
  resume(reason: Wake): void;
  poll?: NodeJS.Timeout;
}

/**
 * The subscription's idle fetch loops. Exactly one of them, whichever is idle, holds the poll timer, so a queue
 * whose notifications were lost is still looked at every `pollMs`, and a long job on one loop never delays
 * that look. A publish of N messages resumes up to N idle loops, so they run N-wide, one fetch each; a loop
 * that claims a message after any other wake (its poll, its last job done) resumes the next, since nobody
 * counted what it found. One message costs one fetch rather than one per loop. A publish that finds no loop
 * idle is remembered until a fetch starts: a loop whose fetch began before the insert looks again instead
 * of sleeping on it.
 */
export function createIdleLoops(pollMs: number) {
  const sleeping: Sleeper[] = [];
  let poller: Sleeper | undefined;
  let unseenPublish = false;

  const appoint = (sleeper: Sleeper) => {
    poller = sleeper;
    sleeper.poll = setTimeout(() => sleeper.resume('other'), pollMs);
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
  const wakeOne = (reason: Wake = 'other') => {
    const sleeper = sleeping[0];
    sleeper?.resume(reason);
    return sleeper !== undefined;
  };

  return {
    /** Sleeps until resumed: by a publish, a loop that found work, the poll timer or a stop. */
    idle(): Promise<Wake> {
      if (unseenPublish) {
        unseenPublish = false;
        return Promise.resolve('other');
      }
      return new Promise((resolve) => {
        const sleeper: Sleeper = {
          resume(reason) {
            leave(sleeper);
            resolve(reason);
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
    wakeOne: () => wakeOne(),
    /** `count` messages were published to the queue. */
    published(count: number) {
      if (!wakeOne('published')) unseenPublish = true;
      for (let woken = 1; woken < count && wakeOne('published'); woken++);
    },
    wakeAll() {
      for (const sleeper of [...sleeping]) sleeper.resume('other');
    },
  };
}
