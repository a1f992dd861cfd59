// Routes: the sign-in pages without a session, the project pages with one.
import { useEffect, useState } from "preact/hooks";
import { Layout } from "./components/Layout";
import { ProjectScope } from "./context";
import { ErrorBox, Loading, useQuery } from "./query";
import { PROJECTS, type Project } from "./queries";
import { match, Redirect, useLocation } from "./router";
import { currentSession, onSessionChange, type Session } from "./session";
import { SignIn, SignUp } from "./pages/Auth";
import { Events } from "./pages/Events";
import { Funnel } from "./pages/Funnel";
import { Live } from "./pages/Live";
import { NewProject } from "./pages/NewProject";
import { Overview } from "./pages/Overview";
import { Retention } from "./pages/Retention";
import { Settings } from "./pages/Settings";
import { Trends } from "./pages/Trends";
import { NotFound } from "./pages/NotFound";

const PAGES = {
  "": Overview,
  trends: Trends,
  funnel: Funnel,
  retention: Retention,
  events: Events,
  live: Live,
  settings: Settings,
} as const;

export function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  useEffect(() => onSessionChange(setSession), []);
  const { path } = useLocation();

  if (!session) {
    if (path === "/signup") return <SignUp />;
    if (path !== "/signin") {
      // Back here after signing in.
      const next = path === "/" ? "" : `?next=${encodeURIComponent(path + location.search)}`;
      return <Redirect to={`/signin${next}`} />;
    }
    return <SignIn />;
  }
  return <SignedIn session={session} path={path} />;
}

function timeZoneKey(projectId: string): string {
  return `eventide.timeZone.${projectId}`;
}

function SignedIn({ session, path }: { session: Session; path: string }) {
  const projects = useQuery<{ me: { username: string; role: string }; projects: Project[] }>(PROJECTS, {
    user: session.username,
  });
  const [zoneTick, setZoneTick] = useState(0);
  if (path === "/signin" || path === "/signup") {
    const next = new URLSearchParams(location.search).get("next");
    return <Redirect to={next && next.startsWith("/") && !next.startsWith("//") ? next : "/"} />;
  }
  if (projects.error) return <ErrorBox error={projects.error} retry={projects.reload} />;
  if (!projects.data) return <Loading what="your projects" />;
  const list = projects.data.projects;

  if (path === "/") return <Redirect to={list.length === 0 ? "/projects/new" : `/p/${list[0]!.id}`} />;
  if (path === "/projects/new") {
    return (
      <Layout projects={list} current={null} session={session}>
        <NewProject onCreated={projects.reload} />
      </Layout>
    );
  }
  const params = match("/p/:id", path) ?? match("/p/:id/:page", path);
  const project = params && list.find((one) => one.id === params.id);
  const Page = params && PAGES[(params.page ?? "") as keyof typeof PAGES];
  if (!project || !Page) {
    return (
      <Layout projects={list} current={null} session={session}>
        <NotFound />
      </Layout>
    );
  }
  const chosen = localStorage.getItem(timeZoneKey(project.id));
  const timeZone = chosen || project.timezone;
  const setTimeZone = (zone: string | null) => {
    if (zone && zone !== project.timezone) localStorage.setItem(timeZoneKey(project.id), zone);
    else localStorage.removeItem(timeZoneKey(project.id));
    setZoneTick(zoneTick + 1);
  };
  return (
    <ProjectScope.Provider value={{ project, timeZone, reloadProjects: projects.reload }}>
      <Layout projects={list} current={project} session={session} timeZone={timeZone} setTimeZone={setTimeZone}>
        <Page key={`${project.id}-${timeZone}`} />
      </Layout>
    </ProjectScope.Provider>
  );
}
