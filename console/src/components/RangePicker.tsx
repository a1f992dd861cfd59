// A date range: the last N days, or chosen days.
import { lastDays } from "../time";

export interface Range {
  from: string;
  to: string;
}

const PRESETS = [7, 14, 30, 90];

export function RangePicker({ range, onChange, timeZone }: { range: Range; onChange: (range: Range) => void; timeZone: string }) {
  return (
    <fieldset class="range">
      <legend>Days <span class="hint">({timeZone})</span></legend>
      <div class="presets">
        {PRESETS.map((days) => {
          const preset = lastDays(timeZone, days);
          const active = preset.from === range.from && preset.to === range.to;
          return (
            <button type="button" key={days} class={active ? "chip active" : "chip"} aria-pressed={active} onClick={() => onChange(preset)}>
              {days} days
            </button>
          );
        })}
      </div>
      <label>
        From
        <input type="date" required value={range.from} onInput={(e) => onChange({ ...range, from: e.currentTarget.value })} />
      </label>
      <label>
        To
        <input type="date" required value={range.to} onInput={(e) => onChange({ ...range, to: e.currentTarget.value })} />
      </label>
    </fieldset>
  );
}
