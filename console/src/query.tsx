// Loading an operation's answer into a component, with its loading and error states.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, describe, gql } from "./api";

export interface QueryState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `query` whenever `variables` change (compared as JSON); null variables: not yet. */
export function useQuery<T>(query: string, variables: Record<string, unknown> | null): QueryState<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: variables !== null,
  });
  const [tick, setTick] = useState(0);
  const key = variables === null ? null : JSON.stringify(variables);
  const latest = useRef(0);
  useEffect(() => {
    if (key === null) return;
    const run = ++latest.current;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    gql<T>(query, JSON.parse(key) as Record<string, unknown>).then(
      (data) => run === latest.current && setState({ data, error: null, loading: false }),
      (error: unknown) => run === latest.current && setState({ data: null, error, loading: false }),
    );
  }, [query, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** A mutation's running state, for forms. */
export function useMutation<T, V extends Record<string, unknown>>(query: string) {
  const [state, setState] = useState<{ running: boolean; error: unknown }>({ running: false, error: null });
  const run = useCallback(
    async (variables: V): Promise<T | null> => {
      setState({ running: true, error: null });
      try {
        const data = await gql<T>(query, variables);
        setState({ running: false, error: null });
        return data;
      } catch (error) {
        setState({ running: false, error });
        return null;
      }
    },
    [query],
  );
  return { ...state, run, clearError: () => setState({ running: false, error: null }) };
}

/** An error, in words; a rate-limited one counts down to when a retry may be made. */
export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const retryAfter = error instanceof ApiError && error.code === "RATE_LIMITED" ? error.retryAfter : null;
  const [left, setLeft] = useState(retryAfter ?? 0);
  useEffect(() => {
    if (retryAfter === null) return;
    setLeft(retryAfter);
    const started = Date.now();
    const timer = window.setInterval(() => {
      const remaining = Math.max(0, Math.ceil(retryAfter - (Date.now() - started) / 1000));
      setLeft(remaining);
      if (remaining === 0) window.clearInterval(timer);
    }, 250);
    return () => window.clearInterval(timer);
  }, [error, retryAfter]);
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{retryAfter !== null ? "Too many requests." : "Something went wrong."}</strong> {describe(error)}
      {retryAfter !== null && (
        <span class="retry-after">
          {left > 0 ? ` You can retry in ${left} s.` : " You can retry now."}
        </span>
      )}
      {retry && (
        <button type="button" onClick={retry} disabled={left > 0}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Loading, error or the content made from the data. */
export function Answer<T>({ state, what, children }: { state: QueryState<T>; what: string; children: (data: T) => preact.ComponentChildren }) {
  if (state.error) return <ErrorBox error={state.error} retry={state.reload} />;
  if (state.data === null) return <Loading what={what} />;
  return <div aria-busy={state.loading}>{children(state.data)}</div>;
}
