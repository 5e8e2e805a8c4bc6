/**
 * A bare Server-Sent Events reader for the middle tier: it shows what an EventSource hides (comments,
 * `retry:`, the status of a refused connection), so tests can assert on the wire format itself.
 */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
}

export interface SseConnection {
  status: number;
  headers: Headers;
  /** The body of a refused connection (problem+json), or '' for a stream. */
  text: string;
  /** The next message, or null once the server ended the stream. */
  next(timeoutMs?: number): Promise<SseMessage | null>;
  /** Messages until `until` matches one (included) or the stream ends. */
  collect(until: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage[]>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const isStream = response.status === 200;
  const text = isStream ? '' : await response.text();
  const reader = isStream ? response.body?.getReader() : undefined;
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: SseMessage[] = [];
  let ended = !isStream;
  let pending: ReturnType<NonNullable<typeof reader>['read']> | undefined;

  async function fill(deadline: number): Promise<void> {
    while (queue.length === 0 && !ended) {
      const wait = deadline - Date.now();
      if (wait <= 0) throw new Error(`no SSE message within the time allowed; buffered: ${buffer}`);
      let timer: NodeJS.Timeout | undefined;
      // One read in flight across timeouts: a second read() would take the chunk the first was waiting for.
      pending ??= reader?.read();
      const chunk = await Promise.race([
        pending,
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), wait);
        }),
      ]).finally(() => clearTimeout(timer));
      if (chunk === 'timeout') continue;
      pending = undefined;
      if (!chunk || chunk.done) {
        ended = true;
        break;
      }
      buffer += decoder.decode(chunk.value, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        queue.push(parse(buffer.slice(0, cut)));
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf('\n\n');
      }
    }
  }

  const connection: SseConnection = {
    status: response.status,
    headers: response.headers,
    text,
    async next(timeoutMs = 10_000) {
      await fill(Date.now() + timeoutMs);
      return queue.shift() ?? null;
    },
    async collect(until, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const seen: SseMessage[] = [];
      for (;;) {
        await fill(deadline);
        const message = queue.shift();
        if (!message) return seen;
        seen.push(message);
        if (until(message)) return seen;
      }
    },
    close() {
      abort.abort();
    },
  };
  return connection;
}

function parse(block: string): SseMessage {
  const message: SseMessage = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) message.comment = line.slice(1).trim();
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') message.id = value;
    else if (field === 'event') message.event = value;
    else if (field === 'data')
      message.data = message.data === undefined ? value : `${message.data}\n${value}`;
    else if (field === 'retry') message.retry = Number(value);
  }
  return message;
}
