// The REST API with the signed-in key (kept in sessionStorage, sent as X-API-Key, never put in a URL).

const KEY = "schemakg.apiKey";
const PRINCIPAL = "schemakg.principal"; // who the key is (GET /whoami): fixed for a key's lifetime
const ROLES = ["analyst", "steward", "admin"];

export const session = {
  key: () => sessionStorage.getItem(KEY),
  principal: JSON.parse(sessionStorage.getItem(PRINCIPAL) || "null"),
  signIn(key) {
    session.signOut();
    sessionStorage.setItem(KEY, key);
  },
  remember(principal) {
    session.principal = principal;
    sessionStorage.setItem(PRINCIPAL, JSON.stringify(principal));
  },
  signOut() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(PRINCIPAL);
    session.principal = null;
  },
  /** Whether the signed-in key's role includes ``role`` (admin ⊇ steward ⊇ analyst). */
  can(role) {
    return !!session.principal && ROLES.indexOf(session.principal.role) >= ROLES.indexOf(role);
  },
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** One segment of a path: a catalogue name, URL-encoded whatever it holds. */
export function seg(name) {
  return encodeURIComponent(name).replace(/^\.{1,2}$/, (dots) => "%2E".repeat(dots.length));
}

export function dbPath(db, table, column) {
  let path = `/databases/${seg(db)}`;
  if (table !== undefined) path += `/tables/${seg(table)}`;
  if (column !== undefined) path += `/columns/${seg(column)}`;
  return path;
}

/** Calls the API; resolves to ``{data, etag, status}``, rejects with an ApiError carrying the service's message. */
export async function api(method, path, { body, query, raw, contentType, ifMatch } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, item);
  }
  const headers = { Accept: "application/json" };
  const key = session.key();
  if (key) headers["X-API-Key"] = key;
  if (ifMatch) headers["If-Match"] = ifMatch;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, cache: "no-store" });
  } catch (error) {
    throw new ApiError(0, "network", `the service did not answer (${error.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: String(response.status), message: text || response.statusText };
    throw new ApiError(response.status, error.code, error.message, error.details);
  }
  return { data, etag: response.headers.get("ETag"), status: response.status };
}

export async function get(path, query) {
  return (await api("GET", path, { query })).data;
}

/** Every item of a paged list (``{items, total, offset, limit}``), in pages of 500. */
export async function all(path, query = {}) {
  const items = [];
  for (let offset = 0; ; offset += 500) {
    const page = await get(path, { ...query, offset, limit: 500 });
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) return items;
  }
}
