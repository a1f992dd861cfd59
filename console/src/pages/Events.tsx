// The events explorer: filters, newest first, forward pages with a way back.
import { useState } from "preact/hooks";
import { useEventProperties, useEventTypes } from "../catalog";
import { FilterEditor, toPropertyFilters, type FilterRow } from "../components/Filters";
import { EventList } from "../components/EventList";
import { useProject } from "../context";
import { Answer, useQuery } from "../query";
import { EVENTS, type EventPage } from "../queries";
import { zonedToInstant } from "../time";

interface Filter {
  userId: string;
  eventType: string;
  from: string;
  to: string;
  where: FilterRow[];
}

const EMPTY: Filter = { userId: "", eventType: "", from: "", to: "", where: [] };
const PAGE_SIZE = 50;

export function Events() {
  const { project, timeZone } = useProject();
  const [draft, setDraft] = useState<Filter>(EMPTY);
  const [applied, setApplied] = useState<Filter>(EMPTY);
  // Cursors of the pages before this one, so "Previous" goes back without refetching all.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const types = useEventTypes(project.id, timeZone);
  const properties = useEventProperties(project.id, timeZone, applied.eventType || draft.eventType || null);

  const filter: Record<string, unknown> = {};
  if (applied.userId) filter.userId = applied.userId;
  if (applied.eventType) filter.eventType = applied.eventType;
  if (applied.from) filter.from = zonedToInstant(applied.from, timeZone);
  if (applied.to) filter.to = zonedToInstant(applied.to, timeZone);
  const where = toPropertyFilters(applied.where, properties);
  if (where.length) filter.where = where;
  const after = cursors.at(-1) ?? null;
  const state = useQuery<EventPage>(EVENTS, { p: project.id, filter, first: PAGE_SIZE, after });

  const submit = (event: Event) => {
    event.preventDefault();
    setApplied(draft);
    setCursors([null]);
  };
  return (
    <section>
      <h1>Events</h1>
      <form class="card toolbar" onSubmit={submit} aria-label="Event filters">
        <label>
          User id
          <input value={draft.userId} onInput={(e) => setDraft({ ...draft, userId: e.currentTarget.value })} />
        </label>
        <label>
          Event type
          <input
            list="event-types"
            value={draft.eventType}
            onInput={(e) => setDraft({ ...draft, eventType: e.currentTarget.value })}
          />
          <datalist id="event-types">
            {types.map((type) => (
              <option key={type} value={type} />
            ))}
          </datalist>
        </label>
        <label>
          From <span class="hint">({timeZone})</span>
          <input type="datetime-local" value={draft.from} onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })} />
        </label>
        <label>
          Before <span class="hint">({timeZone})</span>
          <input type="datetime-local" value={draft.to} onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })} />
        </label>
        <FilterEditor rows={draft.where} onChange={(where) => setDraft({ ...draft, where })} properties={properties} />
        <div class="actions">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setDraft(EMPTY);
              setApplied(EMPTY);
              setCursors([null]);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <Answer state={state} what="events">
        {(data) => (
          <>
            <EventList events={data.events.edges.map((edge) => edge.node)} timeZone={timeZone} id="events-table" />
            <nav class="pager" aria-label="Pages of events">
              <button type="button" class="secondary" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
                Previous page
              </button>
              <span>Page {cursors.length}</span>
              <button
                type="button"
                class="secondary"
                disabled={!data.events.pageInfo.hasNextPage}
                onClick={() => setCursors([...cursors, data.events.pageInfo.endCursor])}
              >
                Next page
              </button>
            </nav>
          </>
        )}
      </Answer>
    </section>
  );
}
