// What every page of a project gets: the project, the zone to show it in, and a way to
// reload the project list after a change.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Project } from "./queries";

export interface ProjectContext {
  project: Project;
  /** The zone dates and hours are shown and counted in: the project's, unless switched. */
  timeZone: string;
  reloadProjects: () => void;
}

export const ProjectScope = createContext<ProjectContext | null>(null);

export function useProject(): ProjectContext {
  const scope = useContext(ProjectScope);
  if (!scope) throw new Error("useProject outside a project page");
  return scope;
}
