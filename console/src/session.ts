// The signed-in session: an access token (a short-lived JWT) and a single-use refresh
// token that rotates on every refresh. Both live in localStorage so a session survives
// reloads and is shared by the tabs of one browser. Presenting a refresh token twice
// revokes the whole login, so tabs must never refresh with the same token at once: a
// refresh runs under a Web Lock and re-reads the stored tokens first, and a tab that
// finds them already rotated by another tab uses those instead.

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
  username: string;
}

const KEY = "eventide.session";
const listeners = new Set<(session: Session | null) => void>();

export function currentSession(): Session | null {
  const raw = localStorage.getItem(KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
  notify(session);
}

export function onSessionChange(listener: (session: Session | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(session: Session | null): void {
  for (const listener of listeners) listener(session);
}

// Another tab signed in, refreshed or signed out.
window.addEventListener("storage", (event) => {
  if (event.key === KEY) notify(currentSession());
});

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { username: string };
}

export function sessionFrom(payload: AuthPayload): Session {
  return {
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    expiresAt: Date.now() + payload.expiresIn * 1000,
    username: payload.user.username,
  };
}

const REFRESH = `mutation Refresh($r: String!) {
  refreshToken(refreshToken: $r) { accessToken refreshToken expiresIn user { username } }
}`;

let inFlight: Promise<Session | null> | null = null;

/** Trades the refresh token for a new pair; null when the login has ended. `refused`
 * is the access token the server just refused, if that is why. */
export function refreshSession(refused?: string): Promise<Session | null> {
  inFlight ??= withLock(() => rotate(refused)).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  // Web Locks exist in secure contexts only (https, or http on loopback).
  if (navigator.locks) return navigator.locks.request("eventide.refresh", work);
  return work();
}

async function rotate(refused?: string): Promise<Session | null> {
  const before = currentSession();
  if (!before) return null;
  // Rotated by another tab while this one waited for the lock.
  if (refused ? before.accessToken !== refused : before.expiresAt - Date.now() > 60_000) {
    return before;
  }
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ query: REFRESH, variables: { r: before.refreshToken } }),
  });
  const body = (await response.json()) as {
    data?: { refreshToken: AuthPayload } | null;
    errors?: { extensions?: { code?: string } }[];
  };
  if (body.data?.refreshToken) {
    const next = sessionFrom(body.data.refreshToken);
    saveSession(next);
    return next;
  }
  const code = body.errors?.[0]?.extensions?.code;
  // Only a refusal ends the session; an engine that is down may answer later.
  if (code === "UNAUTHENTICATED") saveSession(null);
  return null;
}

let timer: number | undefined;

/** Refreshes a minute before the access token expires, while the page is open. */
export function keepSessionFresh(): void {
  const schedule = (session: Session | null) => {
    window.clearTimeout(timer);
    if (!session) return;
    const due = Math.max(session.expiresAt - Date.now() - 60_000, 1_000);
    timer = window.setTimeout(() => void refreshSession(), due);
  };
  onSessionChange(schedule);
  schedule(currentSession());
}
