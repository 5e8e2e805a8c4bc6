// The console's only way to the platform: the public /v1 API with the signed-in Bearer token.
const tokenKey = 'mediagate.console.token';

export const session = {
  get token() {
    return sessionStorage.getItem(tokenKey);
  },
  set token(value) {
    if (value) sessionStorage.setItem(tokenKey, value);
    else sessionStorage.removeItem(tokenKey);
  },
  /** The token's claims, read for display and routing only; the API checks the signature. */
  get claims() {
    try {
      const part = (this.token ?? '').split('.')[1] ?? '';
      return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
    } catch {
      return null;
    }
  },
  get isAdmin() {
    return (this.claims?.roles ?? []).includes('admin');
  },
};

/** A problem+json answer as an Error whose message is the API's own detail, and its stable code. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? 'http_error';
  }
}

export async function api(method, path, body) {
  const headers = { authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null);
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}
