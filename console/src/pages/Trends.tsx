// The trends builder: series of events or users per interval, optionally broken down.
import { useState } from "preact/hooks";
import { useEventProperties, useEventTypes } from "../catalog";
import { Chart } from "../components/Chart";
import { DataTable, formatNumber } from "../components/DataTable";
import { FilterEditor, toPropertyFilters, type FilterRow } from "../components/Filters";
import { RangePicker, type Range } from "../components/RangePicker";
import { useProject } from "../context";
import { Answer, useQuery } from "../query";
import { TRENDS, type PropertyInfo, type TrendSeries } from "../queries";
import { formatDay, formatInstant, lastDays } from "../time";
import { TypeSelect } from "./Retention";

interface SeriesForm {
  eventType: string;
  measure: "EVENTS" | "USERS";
  label: string;
  where: FilterRow[];
}

interface Form {
  range: Range;
  interval: "HOUR" | "DAY" | "WEEK" | "MONTH";
  series: SeriesForm[];
  breakdown: "" | "eventType" | "property";
  breakdownProperty: string;
  breakdownLimit: number;
}

const NEW_SERIES: SeriesForm = { eventType: "", measure: "EVENTS", label: "", where: [] };

function seriesName(series: TrendSeries, brokenDown: boolean): string {
  if (!brokenDown) return series.label;
  if (series.other) return `${series.label}: other`;
  const value = series.breakdownValue === null ? "(none)" : typeof series.breakdownValue === "string" ? series.breakdownValue : JSON.stringify(series.breakdownValue);
  return `${series.label}: ${value}`;
}

export function Trends() {
  const { project, timeZone } = useProject();
  const [form, setForm] = useState<Form>({
    range: lastDays(timeZone, 30),
    interval: "DAY",
    series: [NEW_SERIES],
    breakdown: "",
    breakdownProperty: "",
    breakdownLimit: 10,
  });
  const [applied, setApplied] = useState<Form | null>(null);
  const types = useEventTypes(project.id, timeZone);
  const properties = useEventProperties(project.id, timeZone, null);
  const state = useQuery<{ trends: TrendSeries[] }>(TRENDS, applied && variables(project.id, timeZone, applied, properties));
  const setSeries = (index: number, patch: Partial<SeriesForm>) =>
    setForm({ ...form, series: form.series.map((one, i) => (i === index ? { ...one, ...patch } : one)) });
  return (
    <section>
      <h1>Trends</h1>
      <form
        class="card toolbar"
        aria-label="Trend settings"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(form);
        }}
      >
        <RangePicker range={form.range} onChange={(range) => setForm({ ...form, range })} timeZone={timeZone} />
        <label>
          Interval
          <select value={form.interval} onChange={(e) => setForm({ ...form, interval: e.currentTarget.value as Form["interval"] })}>
            <option value="HOUR">Hour (ranges up to 31 days)</option>
            <option value="DAY">Day</option>
            <option value="WEEK">Week (from Monday)</option>
            <option value="MONTH">Month</option>
          </select>
        </label>
        {form.series.map((series, index) => (
          <fieldset class="series" key={index}>
            <legend>Series {index + 1}</legend>
            <TypeSelect label="Event" value={series.eventType} types={types} onChange={(eventType) => setSeries(index, { eventType })} />
            <label>
              Measure
              <select value={series.measure} onChange={(e) => setSeries(index, { measure: e.currentTarget.value as SeriesForm["measure"] })}>
                <option value="EVENTS">Events</option>
                <option value="USERS">Distinct users</option>
              </select>
            </label>
            <label>
              Label <span class="hint">(optional)</span>
              <input value={series.label} onInput={(e) => setSeries(index, { label: e.currentTarget.value })} />
            </label>
            <FilterEditor rows={series.where} onChange={(where) => setSeries(index, { where })} properties={properties} />
            {form.series.length > 1 && (
              <button type="button" class="link" onClick={() => setForm({ ...form, series: form.series.filter((_, i) => i !== index) })}>
                Remove series {index + 1}
              </button>
            )}
          </fieldset>
        ))}
        <div class="actions">
          {form.series.length < 10 && (
            <button type="button" class="secondary" onClick={() => setForm({ ...form, series: [...form.series, NEW_SERIES] })}>
              Add series
            </button>
          )}
        </div>
        <label>
          Breakdown
          <select value={form.breakdown} onChange={(e) => setForm({ ...form, breakdown: e.currentTarget.value as Form["breakdown"] })}>
            <option value="">none</option>
            <option value="eventType">by event type</option>
            <option value="property">by property</option>
          </select>
        </label>
        {form.breakdown === "property" && (
          <label>
            Breakdown property
            <input
              list="trend-properties"
              required
              value={form.breakdownProperty}
              onInput={(e) => setForm({ ...form, breakdownProperty: e.currentTarget.value })}
            />
            <datalist id="trend-properties">
              {properties.map((info) => (
                <option key={info.property} value={info.property} />
              ))}
            </datalist>
          </label>
        )}
        {form.breakdown && (
          <label>
            Values shown
            <input type="number" min={1} max={50} value={form.breakdownLimit} onInput={(e) => setForm({ ...form, breakdownLimit: Number(e.currentTarget.value) })} />
          </label>
        )}
        <div class="actions">
          <button type="submit">Show trend</button>
        </div>
      </form>
      {applied ? (
        <Answer state={state} what="the trend">
          {(data) => <TrendResult series={data.trends} timeZone={timeZone} interval={applied.interval} brokenDown={applied.breakdown !== ""} />}
        </Answer>
      ) : (
        <p class="hint">Choose the series and press “Show trend”.</p>
      )}
    </section>
  );
}

function variables(projectId: string, timeZone: string, form: Form, properties: PropertyInfo[]): Record<string, unknown> {
  return {
    p: projectId,
    range: form.range,
    tz: timeZone,
    interval: form.interval,
    series: form.series.map((one) => {
      const where = toPropertyFilters(one.where, properties);
      return {
        event: { eventType: one.eventType || null, ...(where.length ? { where } : {}) },
        measure: one.measure,
        ...(one.label.trim() ? { label: one.label.trim() } : {}),
      };
    }),
    breakdown:
      form.breakdown === "eventType" ? { byEventType: true } : form.breakdown === "property" ? { property: form.breakdownProperty.trim() } : null,
    breakdownLimit: form.breakdownLimit,
  };
}

function TrendResult({ series, timeZone, interval, brokenDown }: { series: TrendSeries[]; timeZone: string; interval: string; brokenDown: boolean }) {
  const name = (one: TrendSeries) => seriesName(one, brokenDown);
  if (series.length === 0) return <p class="empty">No series.</p>;
  const starts = series[0]!.points.map((point) => point.start);
  const format = (iso: string) => (interval === "HOUR" ? formatInstant(iso, timeZone) : formatDay(iso, timeZone));
  return (
    <div class="card">
      <Chart
        label="Trend chart"
        x={starts.map((start) => Date.parse(start) / 1000)}
        series={series.map((one) => ({ label: name(one), values: one.points.map((point) => Number(point.value)) }))}
        timeZone={timeZone}
      />
      <table id="trend-totals">
        <thead>
          <tr>
            <th scope="col">Series</th>
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {series.map((one, index) => (
            <tr key={index}>
              <th scope="row">{name(one)}</th>
              <td class="num">{formatNumber(Number(one.total))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <DataTable
        id="trend-table"
        caption="Trend values per interval"
        head={["Interval start", ...series.map(name)]}
        rows={starts.map((start, i) => [<time dateTime={start}>{format(start)}</time>, ...series.map((one) => Number(one.points[i]?.value ?? 0))])}
      />
    </div>
  );
}
