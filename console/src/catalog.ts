// The event types and property keys of a project, for the pickers of the builders.
import { ApiError } from "./api";
import { useQuery } from "./query";
import {
  EVENT_PROPERTIES,
  EVENT_TYPES,
  EVENT_TYPES_FALLBACK,
  type EventTypeInfo,
  type PropertyInfo,
  type TypeCount,
} from "./queries";
import { lastDays } from "./time";

/** Types seen in the last 90 days; from topEvents where the server has no eventTypes. */
export function useEventTypes(projectId: string, timeZone: string): string[] {
  const variables = { p: projectId, range: lastDays(timeZone, 90), tz: timeZone };
  const full = useQuery<{ eventTypes: EventTypeInfo[] }>(EVENT_TYPES, variables);
  const unsupported = full.error instanceof ApiError && full.error.code === "GRAPHQL_VALIDATION_FAILED";
  const fallback = useQuery<{ topEvents: TypeCount[] }>(EVENT_TYPES_FALLBACK, unsupported ? variables : null);
  if (full.data) return full.data.eventTypes.map((row) => row.eventType);
  if (fallback.data) return fallback.data.topEvents.map((row) => row.eventType);
  return [];
}

/** Property keys of the last 90 days' events (of one type, if given); none where the
 * server cannot tell. */
export function useEventProperties(projectId: string, timeZone: string, eventType: string | null): PropertyInfo[] {
  const state = useQuery<{ eventProperties: PropertyInfo[] }>(EVENT_PROPERTIES, {
    p: projectId,
    range: lastDays(timeZone, 90),
    tz: timeZone,
    eventType,
  });
  return state.data?.eventProperties ?? [];
}
