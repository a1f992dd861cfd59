// The funnel builder: steps in order within a window; a step chart with conversion.
import { useState } from "preact/hooks";
import { useEventProperties, useEventTypes } from "../catalog";
import { formatNumber } from "../components/DataTable";
import { FilterEditor, toPropertyFilters, type FilterRow } from "../components/Filters";
import { RangePicker, type Range } from "../components/RangePicker";
import { useProject } from "../context";
import { Answer, useQuery } from "../query";
import { FUNNEL, type FunnelResult, type PropertyInfo } from "../queries";
import { lastDays } from "../time";
import { TypeSelect } from "./Retention";

interface StepForm {
  eventType: string;
  where: FilterRow[];
}

interface Form {
  range: Range;
  steps: StepForm[];
  window: number;
  windowUnit: number;
  order: "ORDERED" | "STRICT";
  breakdownProperty: string;
  breakdownLimit: number;
}

const UNITS: [number, string][] = [
  [60, "minutes"],
  [3600, "hours"],
  [86400, "days"],
];

export function Funnel() {
  const { project, timeZone } = useProject();
  const [form, setForm] = useState<Form>({
    range: lastDays(timeZone, 30),
    steps: [
      { eventType: "", where: [] },
      { eventType: "", where: [] },
    ],
    window: 1,
    windowUnit: 86400,
    order: "ORDERED",
    breakdownProperty: "",
    breakdownLimit: 10,
  });
  const [applied, setApplied] = useState<Form | null>(null);
  const types = useEventTypes(project.id, timeZone);
  const properties = useEventProperties(project.id, timeZone, null);
  const state = useQuery<{ funnel: FunnelResult[] }>(FUNNEL, applied && variables(project.id, timeZone, applied, properties));
  const setStep = (index: number, patch: Partial<StepForm>) =>
    setForm({ ...form, steps: form.steps.map((one, i) => (i === index ? { ...one, ...patch } : one)) });
  return (
    <section>
      <h1>Funnel</h1>
      <form
        class="card toolbar"
        aria-label="Funnel settings"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(form);
        }}
      >
        <RangePicker range={form.range} onChange={(range) => setForm({ ...form, range })} timeZone={timeZone} />
        {form.steps.map((step, index) => (
          <fieldset class="series" key={index}>
            <legend>Step {index + 1}</legend>
            <TypeSelect label={`Step ${index + 1} event`} value={step.eventType} types={types} onChange={(eventType) => setStep(index, { eventType })} />
            <FilterEditor rows={step.where} onChange={(where) => setStep(index, { where })} properties={properties} />
            {form.steps.length > 2 && (
              <button type="button" class="link" onClick={() => setForm({ ...form, steps: form.steps.filter((_, i) => i !== index) })}>
                Remove step {index + 1}
              </button>
            )}
          </fieldset>
        ))}
        <div class="actions">
          {form.steps.length < 10 && (
            <button type="button" class="secondary" onClick={() => setForm({ ...form, steps: [...form.steps, { eventType: "", where: [] }] })}>
              Add step
            </button>
          )}
        </div>
        <label>
          Within
          <input type="number" min={1} value={form.window} onInput={(e) => setForm({ ...form, window: Number(e.currentTarget.value) })} />
        </label>
        <label>
          <span class="sr-only">Window unit</span>
          <select value={form.windowUnit} onChange={(e) => setForm({ ...form, windowUnit: Number(e.currentTarget.value) })}>
            {UNITS.map(([seconds, name]) => (
              <option key={seconds} value={seconds}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Order
          <select value={form.order} onChange={(e) => setForm({ ...form, order: e.currentTarget.value as Form["order"] })}>
            <option value="ORDERED">in order, other events between</option>
            <option value="STRICT">each the very next event</option>
          </select>
        </label>
        <label>
          Breakdown property <span class="hint">(optional)</span>
          <input list="funnel-properties" value={form.breakdownProperty} onInput={(e) => setForm({ ...form, breakdownProperty: e.currentTarget.value })} />
          <datalist id="funnel-properties">
            {properties.map((info) => (
              <option key={info.property} value={info.property} />
            ))}
          </datalist>
        </label>
        <div class="actions">
          <button type="submit">Show funnel</button>
        </div>
      </form>
      {applied ? (
        <Answer state={state} what="the funnel">
          {(data) => (
            <div id="funnel-results">
              {data.funnel.map((result, index) => (
                <FunnelChart key={index} result={result} steps={applied.steps} brokenDown={!!applied.breakdownProperty.trim()} />
              ))}
            </div>
          )}
        </Answer>
      ) : (
        <p class="hint">Choose the steps and press “Show funnel”.</p>
      )}
    </section>
  );
}

function variables(projectId: string, timeZone: string, form: Form, properties: PropertyInfo[]): Record<string, unknown> {
  return {
    p: projectId,
    range: form.range,
    tz: timeZone,
    steps: form.steps.map((step) => {
      const where = toPropertyFilters(step.where, properties);
      return { eventType: step.eventType || null, ...(where.length ? { where } : {}) };
    }),
    windowSeconds: Math.round(form.window * form.windowUnit),
    order: form.order,
    breakdown: form.breakdownProperty.trim() ? { property: form.breakdownProperty.trim() } : null,
    breakdownLimit: form.breakdownLimit,
  };
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

function FunnelChart({ result, steps, brokenDown }: { result: FunnelResult; steps: StepForm[]; brokenDown: boolean }) {
  const title =
    !brokenDown
      ? "All users"
      : result.other
        ? "Other values"
        : result.breakdownValue === null
          ? "(none)"
          : typeof result.breakdownValue === "string"
            ? result.breakdownValue
            : JSON.stringify(result.breakdownValue);
  return (
    <div class="card funnel">
      <h2>{title}</h2>
      <table class="funnel-steps">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Users</th>
            <th scope="col">Conversion</th>
            <th scope="col">Median time from previous</th>
          </tr>
        </thead>
        <tbody>
          {result.steps.map((step) => (
            <tr key={step.index} data-step={step.index} data-users={step.users} data-conversion={step.conversion}>
              <th scope="row">
                {step.index + 1}. {steps[step.index]?.eventType || "any event"}
              </th>
              <td>
                <div class="meter">
                  <span class="track">
                    <span class="bar" style={{ width: `${Math.max(step.conversion * 100, 0.5)}%` }} />
                  </span>
                  <span class="num users">{formatNumber(step.users)}</span>
                </div>
              </td>
              <td class="num conversion">{(step.conversion * 100).toFixed(1)}%</td>
              <td class="num">{step.medianSecondsFromPrevious === null ? "–" : duration(step.medianSecondsFromPrevious)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
