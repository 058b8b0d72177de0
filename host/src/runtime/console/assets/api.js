// The console's calls: /console/api/<path> is the admin API
// (/admin/v1/<path>) behind the session cookie. A lost session sends the
// browser back to sign in; an RFC 9457 problem becomes an ApiError that
// names the field at fault.

export class ApiError extends Error {
  constructor(status, problem) {
    const what = problem && (problem.detail || problem.title);
    super(what ? `${what}${problem.field ? ` (${problem.field})` : ''}` : `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(`/console/api/${path}`, init);
  if (resp.status === 401) {
    window.location.assign('/console/login');
    throw new ApiError(401, { title: 'Signed out' });
  }
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body = {}) => call('POST', path, body);

/** GET that answers null for a route the host does not have (404/405). */
export async function probe(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e.status === 404 || e.status === 405) return null;
    throw e;
  }
}

/** Encodes one path segment. */
export const seg = (s) => encodeURIComponent(s);
