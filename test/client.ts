import type { MediaView } from '../contracts/media.ts';
import type { Platform } from './harness.ts';

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A thin HTTP client for the suites: every call goes over the wire, like a mobile app's. */
export function apiClient(platform: Platform, token: string | undefined) {
  async function call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    raw?: string,
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${platform.apiUrl}${path}`, {
      method,
      headers,
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : undefined) as T,
    };
  }
  return {
    call,
    get: <T = unknown>(path: string) => call<T>('GET', path),
    post: <T = unknown>(path: string, body?: unknown) => call<T>('POST', path, body),
    delete: <T = unknown>(path: string) => call<T>('DELETE', path),
    async waitForMedia(
      mediaId: string,
      until: (m: MediaView) => boolean,
      timeoutMs = 60_000,
    ): Promise<MediaView> {
      const deadline = Date.now() + timeoutMs;
      let last: Reply<MediaView> | undefined;
      while (Date.now() < deadline) {
        last = await call<MediaView>('GET', `/v1/media/${mediaId}`);
        if (last.status === 200 && until(last.body)) return last.body;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`media ${mediaId} did not settle: ${JSON.stringify(last?.body)}`);
    },
  };
}

export async function putPart(
  url: string,
  body: Buffer,
): Promise<{ status: number; etag: string | null; text: string }> {
  const response = await fetch(url, { method: 'PUT', body: new Uint8Array(body) });
  return { status: response.status, etag: response.headers.get('etag'), text: await response.text() };
}

/** PUTs the parts of `bytes` a session asks for (all, or `only` those), as a client does; returns their ETags. */
export async function putParts(
  session: { partSize: number; parts: { partNumber: number; url: string }[] },
  bytes: Buffer,
  only?: number[],
): Promise<{ partNumber: number; etag: string }[]> {
  const etags = [];
  for (const { partNumber, url } of session.parts) {
    if (only && !only.includes(partNumber)) continue;
    const put = await putPart(
      url,
      bytes.subarray((partNumber - 1) * session.partSize, partNumber * session.partSize),
    );
    if (put.status !== 200) throw new Error(`part ${partNumber} answered ${put.status}: ${put.text}`);
    etags.push({ partNumber, etag: put.etag ?? '' });
  }
  return etags;
}

/** The whole client flow for one file: create, PUT every part, complete. Returns the completion reply. */
export async function uploadBytes(
  api: ReturnType<typeof apiClient>,
  bytes: Buffer,
  contentType: string,
  filename = 'upload.bin',
): Promise<{ mediaId: string; uploadId: string; complete: Reply<MediaView & { code?: string }> }> {
  const created = await api.post<{
    mediaId: string;
    uploadId: string;
    partSize: number;
    parts: { partNumber: number; url: string }[];
  }>('/v1/uploads', { filename, contentType, size: bytes.length });
  if (created.status !== 201)
    throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const { mediaId, uploadId } = created.body;
  const parts = await putParts(created.body, bytes);
  const complete = await api.post<MediaView & { code?: string }>(`/v1/uploads/${uploadId}/complete`, {
    parts,
  });
  return { mediaId, uploadId, complete };
}
