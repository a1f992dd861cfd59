// The GraphQL documents the console sends, next to the shapes of their answers.

export type ProjectRole = "VIEWER" | "EDITOR" | "OWNER";

export interface Project {
  id: string;
  name: string;
  timezone: string;
  createdAt: string;
  myRole: ProjectRole | null;
}

const AUTH_FIELDS = "accessToken refreshToken expiresIn user { username }";

export const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { ${AUTH_FIELDS} }
}`;

export const SIGNUP = `mutation Signup($input: SignupInput!) { signup(input: $input) { ${AUTH_FIELDS} } }`;

export const LOGOUT = `mutation Logout($r: String) { logout(refreshToken: $r) }`;

export const PROJECTS = `query Projects { me { username role } projects { id name timezone createdAt myRole } }`;

export const CREATE_PROJECT = `mutation CreateProject($input: CreateProjectInput!) {
  createProject(input: $input) { id name timezone createdAt myRole }
}`;

export const UPDATE_PROJECT = `mutation UpdateProject($id: ID!, $input: UpdateProjectInput!) {
  updateProject(id: $id, input: $input) { id name timezone createdAt myRole }
}`;

export const DELETE_PROJECT = `mutation DeleteProject($id: ID!) { deleteProject(id: $id) }`;

export interface Member {
  user: { id: string; username: string; email: string | null };
  role: ProjectRole;
  addedAt: string;
}

export const MEMBERS = `query Members($id: ID!) {
  project(id: $id) { id members { user { id username email } role addedAt } }
}`;

export const ADD_MEMBER = `mutation AddMember($projectId: ID!, $username: String!, $role: ProjectRole!) {
  addProjectMember(projectId: $projectId, username: $username, role: $role) { role }
}`;

export const SET_MEMBER_ROLE = `mutation SetRole($projectId: ID!, $userId: ID!, $role: ProjectRole!) {
  setProjectMemberRole(projectId: $projectId, userId: $userId, role: $role) { role }
}`;

export const REMOVE_MEMBER = `mutation RemoveMember($projectId: ID!, $userId: ID!) {
  removeProjectMember(projectId: $projectId, userId: $userId)
}`;

export const CREATE_INVITATION = `mutation Invite($projectId: ID!, $role: ProjectRole!, $ttlSeconds: Int!) {
  createInvitation(projectId: $projectId, role: $role, ttlSeconds: $ttlSeconds) { code role expiresAt }
}`;

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  owner: { username: string };
  project: { id: string };
}

export const API_TOKENS = `query ApiTokens {
  apiTokens { id name prefix scopes createdAt expiresAt lastUsedAt revokedAt owner { username } project { id } }
}`;

export const CREATE_API_TOKEN = `mutation CreateApiToken($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { id prefix } }
}`;

export const REVOKE_API_TOKEN = `mutation RevokeApiToken($id: ID!) { revokeApiToken(id: $id) }`;

export interface DayCount {
  date: string;
  users: number;
}

export interface TypeCount {
  eventType: string;
  events: number;
  users: number;
}

export const OVERVIEW = `query Overview($p: ID!, $month: DateRange!, $today: DateRange!, $tz: String!) {
  dau(projectId: $p, range: $month, timezone: $tz) { date users }
  top: topEvents(projectId: $p, range: $month, timezone: $tz, limit: 10) { eventType events users }
  todays: topEvents(projectId: $p, range: $today, timezone: $tz, limit: 1000) { eventType events users }
}`;

export interface Cohort {
  cohort: string;
  size: number;
  retained: number[];
}

export const RETENTION = `query Retention($p: ID!, $range: DateRange!, $tz: String!, $period: RetentionPeriod!,
    $periods: Int!, $cohort: CohortKind!, $cohortEventType: String, $returnEventType: String,
    $cohortWhere: [PropertyFilter!], $returnWhere: [PropertyFilter!]) {
  retention(projectId: $p, range: $range, timezone: $tz, period: $period, periods: $periods, cohort: $cohort,
      cohortEventType: $cohortEventType, returnEventType: $returnEventType,
      cohortWhere: $cohortWhere, returnWhere: $returnWhere) { cohort size retained }
}`;

/** Without the property filters, for a server that has none yet. */
export const RETENTION_PLAIN = `query Retention($p: ID!, $range: DateRange!, $tz: String!, $period: RetentionPeriod!,
    $periods: Int!, $cohort: CohortKind!, $cohortEventType: String, $returnEventType: String) {
  retention(projectId: $p, range: $range, timezone: $tz, period: $period, periods: $periods, cohort: $cohort,
      cohortEventType: $cohortEventType, returnEventType: $returnEventType) { cohort size retained }
}`;

export interface Event {
  id: string;
  eventId: string;
  userId: string;
  eventType: string;
  occurredAt: string;
  receivedAt: string;
  properties: Record<string, unknown> | null;
}

const EVENT_FIELDS = "id eventId userId eventType occurredAt receivedAt properties";

export interface EventPage {
  events: {
    edges: { cursor: string; node: Event }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export const EVENTS = `query Events($p: ID!, $filter: EventFilter, $first: Int!, $after: String) {
  events(projectId: $p, filter: $filter, first: $first, after: $after) {
    edges { cursor node { ${EVENT_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const LIVE_EVENTS = `subscription Live($p: ID, $eventType: String) {
  liveEvents(projectId: $p, eventType: $eventType) { ${EVENT_FIELDS} }
}`;

export interface EventTypeInfo {
  eventType: string;
  events: number;
  users: number;
  lastSeenAt: string;
}

export const EVENT_TYPES = `query EventTypes($p: ID!, $range: DateRange!, $tz: String!) {
  eventTypes(projectId: $p, range: $range, timezone: $tz) { eventType events users lastSeenAt }
}`;

/** For a server without eventTypes: the types ranked by topEvents. */
export const EVENT_TYPES_FALLBACK = `query EventTypes($p: ID!, $range: DateRange!, $tz: String!) {
  topEvents(projectId: $p, range: $range, timezone: $tz, limit: 1000) { eventType events users }
}`;

export interface PropertyInfo {
  property: string;
  types: string[];
  events: number;
  topValues: unknown[];
}

export const EVENT_PROPERTIES = `query EventProperties($p: ID!, $range: DateRange!, $tz: String!, $eventType: String) {
  eventProperties(projectId: $p, range: $range, timezone: $tz, eventType: $eventType, limit: 200) {
    property types events topValues
  }
}`;

export interface TrendSeries {
  label: string;
  breakdownValue: unknown;
  other: boolean;
  total: number;
  points: { start: string; value: number }[];
}

export const TRENDS = `query Trends($p: ID!, $range: DateRange!, $tz: String!, $interval: Interval!,
    $series: [TrendSeriesInput!]!, $breakdown: BreakdownInput, $breakdownLimit: Int!) {
  trends(projectId: $p, range: $range, timezone: $tz, interval: $interval, series: $series,
      breakdown: $breakdown, breakdownLimit: $breakdownLimit) {
    label breakdownValue other total points { start value }
  }
}`;

export interface FunnelResult {
  breakdownValue: unknown;
  other: boolean;
  steps: { index: number; users: number; conversion: number; medianSecondsFromPrevious: number | null }[];
}

export const FUNNEL = `query Funnel($p: ID!, $range: DateRange!, $tz: String!, $steps: [EventSelector!]!,
    $windowSeconds: Int!, $order: FunnelOrder!, $breakdown: BreakdownInput, $breakdownLimit: Int!) {
  funnel(projectId: $p, range: $range, timezone: $tz, steps: $steps, windowSeconds: $windowSeconds,
      order: $order, breakdown: $breakdown, breakdownLimit: $breakdownLimit) {
    breakdownValue other steps { index users conversion medianSecondsFromPrevious }
  }
}`;
