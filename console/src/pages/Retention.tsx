// Retention as a cohort heatmap: one row per cohort period, one column per period after.
import { useState } from "preact/hooks";
import { useEventProperties, useEventTypes } from "../catalog";
import { formatNumber } from "../components/DataTable";
import { FilterEditor, toPropertyFilters, type FilterRow } from "../components/Filters";
import { RangePicker, type Range } from "../components/RangePicker";
import { useProject } from "../context";
import { Answer, useQuery } from "../query";
import { RETENTION, RETENTION_PLAIN, type Cohort } from "../queries";
import { formatDate, lastDays } from "../time";

interface Form {
  range: Range;
  period: "DAY" | "WEEK" | "MONTH";
  periods: number;
  cohort: "FIRST_SEEN" | "ACTIVE";
  cohortEventType: string;
  returnEventType: string;
  cohortWhere: FilterRow[];
  returnWhere: FilterRow[];
}

const PERIOD_NAMES = { DAY: "Day", WEEK: "Week", MONTH: "Month" };

export function Retention() {
  const { project, timeZone } = useProject();
  const [form, setForm] = useState<Form>({
    range: lastDays(timeZone, 14),
    period: "DAY",
    periods: 7,
    cohort: "FIRST_SEEN",
    cohortEventType: "",
    returnEventType: "",
    cohortWhere: [],
    returnWhere: [],
  });
  const [applied, setApplied] = useState(form);
  const types = useEventTypes(project.id, timeZone);
  const properties = useEventProperties(project.id, timeZone, null);
  const cohortWhere = toPropertyFilters(applied.cohortWhere, properties);
  const returnWhere = toPropertyFilters(applied.returnWhere, properties);
  // The filtered form only when filters are set, so servers without them still answer.
  const filtered = cohortWhere.length > 0 || returnWhere.length > 0;
  const state = useQuery<{ retention: Cohort[] }>(filtered ? RETENTION : RETENTION_PLAIN, {
    p: project.id,
    range: applied.range,
    tz: timeZone,
    period: applied.period,
    periods: applied.periods,
    cohort: applied.cohort,
    cohortEventType: applied.cohortEventType || null,
    returnEventType: applied.returnEventType || null,
    ...(filtered ? { cohortWhere: cohortWhere.length ? cohortWhere : null, returnWhere: returnWhere.length ? returnWhere : null } : {}),
  });
  const submit = (event: Event) => {
    event.preventDefault();
    setApplied(form);
  };
  return (
    <section>
      <h1>Retention</h1>
      <form class="card toolbar" onSubmit={submit} aria-label="Retention settings">
        <RangePicker range={form.range} onChange={(range) => setForm({ ...form, range })} timeZone={timeZone} />
        <label>
          Period
          <select value={form.period} onChange={(e) => setForm({ ...form, period: e.currentTarget.value as Form["period"] })}>
            <option value="DAY">Day</option>
            <option value="WEEK">Week (from Monday)</option>
            <option value="MONTH">Month</option>
          </select>
        </label>
        <label>
          Periods after
          <input
            type="number"
            min={0}
            max={400}
            value={form.periods}
            onInput={(e) => setForm({ ...form, periods: Number(e.currentTarget.value) })}
          />
        </label>
        <label>
          Cohorts
          <select value={form.cohort} onChange={(e) => setForm({ ...form, cohort: e.currentTarget.value as Form["cohort"] })}>
            <option value="FIRST_SEEN">by first event ever</option>
            <option value="ACTIVE">every period active</option>
          </select>
        </label>
        <TypeSelect label="Cohort event" value={form.cohortEventType} types={types} onChange={(cohortEventType) => setForm({ ...form, cohortEventType })} />
        <TypeSelect label="Return event" value={form.returnEventType} types={types} onChange={(returnEventType) => setForm({ ...form, returnEventType })} />
        <FilterEditor legend="Cohort event filters" rows={form.cohortWhere} onChange={(cohortWhere) => setForm({ ...form, cohortWhere })} properties={properties} />
        <FilterEditor legend="Return event filters" rows={form.returnWhere} onChange={(returnWhere) => setForm({ ...form, returnWhere })} properties={properties} />
        <div class="actions">
          <button type="submit">Show retention</button>
        </div>
      </form>
      <Answer state={state} what="retention">
        {(data) => <Heatmap cohorts={data.retention} period={PERIOD_NAMES[applied.period]} />}
      </Answer>
    </section>
  );
}

export function TypeSelect({ label, value, types, onChange }: { label: string; value: string; types: string[]; onChange: (value: string) => void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">any event</option>
        {value && !types.includes(value) && <option value={value}>{value}</option>}
        {types.map((type) => (
          <option key={type} value={type}>
            {type}
          </option>
        ))}
      </select>
    </label>
  );
}

function Heatmap({ cohorts, period }: { cohorts: Cohort[]; period: string }) {
  const width = cohorts[0]?.retained.length ?? 0;
  return (
    <div class="card scroll">
      <table class="heatmap" id="retention-table">
        <caption>Share of each cohort active {period.toLowerCase()} k after; counts in the cell titles.</caption>
        <thead>
          <tr>
            <th scope="col">Cohort</th>
            <th scope="col">Users</th>
            {Array.from({ length: width }, (_, k) => (
              <th scope="col" key={k}>
                {period} {k}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {cohorts.map((row) => (
            <tr key={row.cohort}>
              <th scope="row">
                <time dateTime={row.cohort}>{formatDate(row.cohort)}</time>
              </th>
              <td class="num">{formatNumber(row.size)}</td>
              {row.retained.map((count, k) => {
                const share = row.size ? count / row.size : 0;
                return (
                  <td
                    key={k}
                    class="cell"
                    data-count={count}
                    title={`${count} of ${row.size} users`}
                    style={{ backgroundColor: `rgba(37, 99, 235, ${row.size ? 0.08 + 0.82 * share : 0})`, color: share > 0.55 ? "#fff" : undefined }}
                  >
                    {row.size ? `${Math.round(share * 100)}%` : "–"}
                    <span class="sr-only"> ({count} users)</span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
