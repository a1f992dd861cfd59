// The live tail: the liveEvents subscription over graphql-transport-ws at /graphql, the
// access token in connection_init's payload (a browser WebSocket carries no headers).
import { createClient, type Client } from "graphql-ws";
import { useEffect, useRef, useState } from "preact/hooks";
import { useEventTypes } from "../catalog";
import { EventList } from "../components/EventList";
import { useProject } from "../context";
import { LIVE_EVENTS, type Event } from "../queries";
import { currentSession, refreshSession } from "../session";
import { TypeSelect } from "./Retention";

const KEEP = 200;
// The server's close codes for a subscriber it dropped: it fell behind (4008), or the
// server lost its event feed (4013). Either way some events were not sent to it.
const DROPPED = new Set([4008, 4013]);

type Status = "connecting" | "live" | "paused" | "closed" | "error";

function socketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql`;
}

export function Live() {
  const { project, timeZone } = useProject();
  const [eventType, setEventType] = useState("");
  const [paused, setPaused] = useState(false);
  const [events, setEvents] = useState<Event[]>([]);
  const [status, setStatus] = useState<Status>("connecting");
  const [problem, setProblem] = useState<string | null>(null);
  const types = useEventTypes(project.id, timeZone);
  const client = useRef<Client | null>(null);

  useEffect(() => {
    if (paused) {
      setStatus("paused");
      return;
    }
    setStatus("connecting");
    setProblem(null);
    const ws = createClient({
      url: socketUrl(),
      lazy: false,
      retryAttempts: 5,
      // Read at every (re)connection, so a refreshed access token is used.
      connectionParams: async () => {
        let session = currentSession();
        if (session && session.expiresAt - Date.now() < 30_000) session = await refreshSession();
        return session ? { authorization: `Bearer ${session.accessToken}` } : {};
      },
      on: {
        connected: () => setStatus("live"),
        closed: (event) => {
          const close = event as CloseEvent;
          setStatus("closed");
          if (DROPPED.has(close.code)) {
            // The server dropped this subscriber; graphql-ws reconnects by itself.
            setProblem(`Disconnected by the server: ${close.reason} Events accepted until the tail reconnects are not shown here; the Events page lists every one.`);
          } else if (close.code && close.code !== 1000) {
            setProblem(`The connection closed (${close.code}${close.reason ? `: ${close.reason}` : ""}).`);
          }
        },
        error: () => setStatus("error"),
      },
    });
    client.current = ws;
    const stop = ws.subscribe<{ liveEvents: Event }>(
      { query: LIVE_EVENTS, variables: { p: project.id, eventType: eventType || null } },
      {
        next: (result) => {
          if (result.errors?.length) {
            setProblem(result.errors.map((error) => error.message).join(" "));
            return;
          }
          const event = result.data?.liveEvents;
          if (event) setEvents((previous) => [event, ...previous].slice(0, KEEP));
        },
        error: (error) => {
          setStatus("error");
          if (Array.isArray(error)) setProblem(error.map((one: { message: string }) => one.message).join(" "));
          else if (error instanceof Error) setProblem(error.message);
          else setProblem("The live connection failed.");
        },
        complete: () => setStatus("closed"),
      },
    );
    return () => {
      stop();
      void ws.dispose();
    };
  }, [project.id, eventType, paused]);

  return (
    <section>
      <h1>Live events</h1>
      <div class="card toolbar">
        <TypeSelect label="Event type" value={eventType} types={types} onChange={setEventType} />
        <div class="actions">
          <button type="button" class="secondary" aria-pressed={paused} onClick={() => setPaused(!paused)}>
            {paused ? "Resume" : "Pause"}
          </button>
          <button type="button" class="secondary" onClick={() => setEvents([])}>
            Clear
          </button>
        </div>
        <p class={`live-status ${status}`} role="status" aria-live="polite" id="live-status">
          {status === "live" ? "Live: new events appear as they are accepted." : status === "connecting" ? "Connecting…" : status === "paused" ? "Paused." : status === "closed" ? "Disconnected." : "Connection failed."}
        </p>
      </div>
      {problem && (
        <div class="error" role="alert">
          {problem}
        </div>
      )}
      {events.length === 0 ? <p class="empty">Waiting for events… (the newest {KEEP} are kept here)</p> : <EventList events={events} timeZone={timeZone} id="live-table" />}
    </section>
  );
}
