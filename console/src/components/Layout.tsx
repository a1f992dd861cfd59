// The frame of every signed-in page: project switcher, navigation, time zone, sign out.
import type { ComponentChildren } from "preact";
import { gql } from "../api";
import { LOGOUT, type Project } from "../queries";
import { Link, navigate } from "../router";
import { saveSession, type Session } from "../session";
import { allTimeZones, browserTimeZone } from "../time";

const NAV: [string, string][] = [
  ["", "Overview"],
  ["/trends", "Trends"],
  ["/funnel", "Funnel"],
  ["/retention", "Retention"],
  ["/events", "Events"],
  ["/live", "Live"],
  ["/settings", "Settings"],
];

export async function signOut(session: Session): Promise<void> {
  try {
    // Ends this login on the server: its refresh token family and its access tokens.
    await gql(LOGOUT, { r: session.refreshToken });
  } catch {
    // Signed out here either way; the access token expires on its own.
  }
  saveSession(null);
  navigate("/signin");
}

export function Layout({
  projects,
  current,
  session,
  timeZone,
  setTimeZone,
  children,
}: {
  projects: Project[];
  current: Project | null;
  session: Session;
  timeZone?: string;
  setTimeZone?: (zone: string | null) => void;
  children: ComponentChildren;
}) {
  const zones = allTimeZones();
  const browser = browserTimeZone();
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          Eventide
        </Link>
        <label class="inline">
          <span>Project</span>
          <select
            id="project-switcher"
            value={current?.id ?? ""}
            onChange={(e) => {
              const id = e.currentTarget.value;
              navigate(id === "new" ? "/projects/new" : `/p/${id}`);
            }}
          >
            {!current && <option value="">Choose…</option>}
            {projects.map((project) => (
              <option key={project.id} value={project.id}>
                {project.name}
              </option>
            ))}
            <option value="new">+ New project…</option>
          </select>
        </label>
        {current && timeZone && setTimeZone && (
          <label class="inline">
            <span>Time zone</span>
            <select id="time-zone" value={timeZone} onChange={(e) => setTimeZone(e.currentTarget.value)}>
              <option value={current.timezone}>{current.timezone} (project)</option>
              {browser !== current.timezone && <option value={browser}>{browser} (this browser)</option>}
              {zones
                .filter((zone) => zone !== current.timezone && zone !== browser)
                .map((zone) => (
                  <option key={zone} value={zone}>
                    {zone}
                  </option>
                ))}
            </select>
          </label>
        )}
        <span class="spacer" />
        <span class="who" title="Signed in as">
          {session.username}
        </span>
        <button type="button" class="secondary" onClick={() => void signOut(session)}>
          Sign out
        </button>
      </header>
      {current && (
        <nav class="tabs" aria-label="Project pages">
          {NAV.map(([suffix, name]) => (
            <Link key={suffix} href={`/p/${current.id}${suffix}`}>
              {name}
            </Link>
          ))}
        </nav>
      )}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
