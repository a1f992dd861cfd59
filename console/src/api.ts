// The one way the console talks to Eventide: POST /graphql with the session's access
// token. A refused access token is refreshed once and the request sent again.
import { currentSession, refreshSession, saveSession } from "./session";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** Seconds until a RATE_LIMITED request may be retried. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

interface GraphQLError {
  message: string;
  extensions?: { code?: string; retryAfter?: number };
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: GraphQLError[];
}

async function send<T>(
  query: string,
  variables: Record<string, unknown>,
  token: string | null,
): Promise<GraphQLBody<T>> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    // Plain JSON: every GraphQL answer, errors included, comes with status 200.
    Accept: "application/json",
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("The server cannot be reached. Check your connection.", "NETWORK");
  }
  try {
    return (await response.json()) as GraphQLBody<T>;
  } catch {
    throw new ApiError(`The server answered ${response.status}.`, "HTTP_" + response.status);
  }
}

function toError(error: GraphQLError): ApiError {
  const code = error.extensions?.code ?? "ERROR";
  return new ApiError(error.message, code, error.extensions?.retryAfter ?? null);
}

/** Runs one operation; any error of the answer is thrown as an ApiError. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const session = currentSession();
  let body = await send<T>(query, variables, session?.accessToken ?? null);
  const first = body.errors?.[0];
  if (session && first?.extensions?.code === "UNAUTHENTICATED") {
    const renewed = await refreshSession(session.accessToken);
    if (!renewed) {
      saveSession(null);
      throw toError(first);
    }
    body = await send<T>(query, variables, renewed.accessToken);
  }
  if (body.errors?.length) throw toError(body.errors[0]!);
  if (body.data == null) throw new ApiError("The server sent no data.", "NO_DATA");
  return body.data;
}

/** What to tell a person about an error, in one sentence. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
