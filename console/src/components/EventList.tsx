// Events as a table; each row's properties open on demand.
import type { Event } from "../queries";
import { formatInstant } from "../time";

export function EventList({ events, timeZone, id }: { events: Event[]; timeZone: string; id?: string }) {
  if (events.length === 0) return <p class="empty">No events match.</p>;
  return (
    <div class="scroll card">
      <table class="events" id={id}>
        <thead>
          <tr>
            <th scope="col">Occurred</th>
            <th scope="col">Event type</th>
            <th scope="col">User</th>
            <th scope="col">Properties</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id} data-event-id={event.eventId}>
              <td>
                <time dateTime={event.occurredAt} title={`Received ${formatInstant(event.receivedAt, timeZone)}`}>
                  {formatInstant(event.occurredAt, timeZone)}
                </time>
              </td>
              <td>{event.eventType}</td>
              <td class="mono">{event.userId}</td>
              <td>
                {event.properties && Object.keys(event.properties).length > 0 ? (
                  <details>
                    <summary>{summarize(event.properties)}</summary>
                    <pre>{JSON.stringify(event.properties, null, 2)}</pre>
                  </details>
                ) : (
                  <span class="hint">none</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function summarize(properties: Record<string, unknown>): string {
  const text = Object.entries(properties)
    .slice(0, 3)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
  return text.length > 60 ? text.slice(0, 57) + "…" : text;
}
