/** What goes over the wire: events as JSON, the ingestEvents request, and what its
 * answer means for the batch. */

import { uuid7 } from "./uuid7.js";

export const DOCUMENT =
  "mutation Ingest($projectId: ID, $events: [EventInput!]!, $sentAt: DateTime) " +
  "{ ingestEvents(projectId: $projectId, events: $events, sentAt: $sentAt) " +
  "{ accepted duplicates rejected { index eventId code message } } }";

// Errors that sending the same batch again may cure; any other error refuses it for
// good (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, ...).
const TRANSIENT_CODES = new Set(["SERVICE_UNAVAILABLE", "QUERY_TIMEOUT", "INTERNAL_SERVER_ERROR"]);

/** One tracked event, already encoded: every retry sends the very same JSON, eventId
 * included, and this is also the form kept in localStorage. */
export interface StoredEvent {
  id: string;
  json: string;
}

export type Properties = Record<string, unknown>;

export function encodeEvent(
  eventType: string,
  userId: string,
  properties: Properties | null | undefined,
): StoredEvent {
  const id = uuid7();
  const json = JSON.stringify({
    eventId: id,
    userId,
    eventType,
    occurredAt: new Date().toISOString(),
    properties: properties ?? null,
  });
  return { id, json };
}

/** The body of one send. sentAt is the moment of this send, not of the first try: the
 * server shifts occurredAt by its own clock minus sentAt, so a stale sentAt on a retry
 * would shift every event by the time spent retrying. */
export function requestBody(project: string | null, events: readonly StoredEvent[]): string {
  const head = JSON.stringify({ query: DOCUMENT }).slice(0, -1);
  const variables = JSON.stringify({ projectId: project, sentAt: new Date().toISOString() }).slice(0, -1);
  return `${head},"variables":${variables},"events":[${events.map((e) => e.json).join(",")}]}}`;
}

export type Verdict =
  | "delivered" // stored, or counted as duplicates or rejected events
  | "retry" // the same batch may succeed later
  | "rateLimited" // the same batch, after retryAfter seconds
  | "tooLarge" // HTTP 413: send it in smaller pieces
  | "refused"; // the server will never take this batch

export interface Answer {
  verdict: Verdict;
  accepted?: number;
  duplicates?: number;
  rejected?: number;
  retryAfterSeconds?: number;
  message?: string;
}

interface GraphQLAnswer {
  data?: { ingestEvents?: { accepted?: number; duplicates?: number; rejected?: unknown[] } } | null;
  errors?: { message?: string; extensions?: { code?: string; retryAfter?: unknown } }[];
}

/** What the server's answer to one ingestEvents request means for its batch. */
export function judge(status: number, retryAfterHeader: string | null, body: string): Answer {
  if (status === 413) return { verdict: "tooLarge" };
  let document: GraphQLAnswer | null = null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === "object") document = parsed as GraphQLAnswer;
  } catch {
    // A proxy's error page, a cut-off body: nothing says the batch was stored.
  }
  if (document === null) return { verdict: "retry", message: `HTTP ${status} without a GraphQL answer` };
  const errors = document.errors ?? [];
  const result = document.data?.ingestEvents;
  if (result && errors.length === 0) {
    return {
      verdict: "delivered",
      accepted: result.accepted ?? 0,
      duplicates: result.duplicates ?? 0,
      rejected: result.rejected?.length ?? 0,
    };
  }
  const error = errors[0] ?? {};
  const code = error.extensions?.code;
  const message = `${code}: ${error.message ?? ""}`;
  if (code === "RATE_LIMITED" || status === 429) {
    const wait = seconds(error.extensions?.retryAfter) ?? seconds(retryAfterHeader) ?? 1;
    return { verdict: "rateLimited", retryAfterSeconds: wait, message };
  }
  if ((code !== undefined && TRANSIENT_CODES.has(code)) || status >= 500) return { verdict: "retry", message };
  return { verdict: "refused", message };
}

function seconds(value: unknown): number | null {
  const number = Number(value);
  return value !== null && value !== undefined && Number.isFinite(number) && number > 0 ? number : null;
}
