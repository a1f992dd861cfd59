// The property-filter editor shared by the builders: rows of (property, op, value),
// with property keys and frequent values offered from eventProperties.
import { useId } from "preact/hooks";
import type { PropertyInfo } from "../queries";

export type FilterOp =
  | "EQ" | "NEQ" | "IN" | "NOT_IN" | "CONTAINS" | "NOT_CONTAINS" | "GT" | "GTE" | "LT" | "LTE" | "IS_SET" | "IS_NOT_SET";

export interface FilterRow {
  property: string;
  op: FilterOp;
  /** As typed; turned into JSON by toPropertyFilters. */
  value: string;
}

const OPS: [FilterOp, string][] = [
  ["EQ", "equals"],
  ["NEQ", "does not equal"],
  ["IN", "is one of"],
  ["NOT_IN", "is none of"],
  ["CONTAINS", "contains"],
  ["NOT_CONTAINS", "does not contain"],
  ["GT", ">"],
  ["GTE", "≥"],
  ["LT", "<"],
  ["LTE", "≤"],
  ["IS_SET", "is set"],
  ["IS_NOT_SET", "is not set"],
];

/** Typed text as a JSON value: numbers, true/false/null and "quoted" text are JSON; anything
 * else is a string. A property only ever seen as a string keeps digits as text. */
function parseValue(text: string, stringsOnly: boolean): unknown {
  const trimmed = text.trim();
  if (stringsOnly && !trimmed.startsWith('"')) return trimmed;
  try {
    return JSON.parse(trimmed);
  } catch {
    return trimmed;
  }
}

export function toPropertyFilters(rows: FilterRow[], known: PropertyInfo[]): { property: string; op: FilterOp; value?: unknown }[] {
  return rows
    .filter((row) => row.property.trim() !== "")
    .map((row) => {
      const info = known.find((one) => one.property === row.property.split(".")[0]);
      const stringsOnly = !!info && info.types.length === 1 && info.types[0] === "string" && !row.property.includes(".");
      const property = row.property.trim();
      if (row.op === "IS_SET" || row.op === "IS_NOT_SET") return { property, op: row.op };
      if (row.op === "IN" || row.op === "NOT_IN") {
        const items = row.value.split(",").filter((item) => item.trim() !== "");
        return { property, op: row.op, value: items.map((item) => parseValue(item, stringsOnly)) };
      }
      if (["GT", "GTE", "LT", "LTE"].includes(row.op)) return { property, op: row.op, value: Number(row.value) };
      if (row.op === "CONTAINS" || row.op === "NOT_CONTAINS") return { property, op: row.op, value: row.value };
      return { property, op: row.op, value: parseValue(row.value, stringsOnly) };
    });
}

export function FilterEditor({
  rows,
  onChange,
  properties,
  legend = "Property filters",
}: {
  rows: FilterRow[];
  onChange: (rows: FilterRow[]) => void;
  properties: PropertyInfo[];
  legend?: string;
}) {
  const id = useId();
  const update = (index: number, patch: Partial<FilterRow>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <fieldset class="filters">
      <legend>{legend}</legend>
      <datalist id={`${id}-props`}>
        {properties.map((info) => (
          <option key={info.property} value={info.property} />
        ))}
      </datalist>
      {rows.length === 0 && <p class="hint">No filters: every event counts.</p>}
      {rows.map((row, index) => {
        const info = properties.find((one) => one.property === row.property);
        const needsValue = row.op !== "IS_SET" && row.op !== "IS_NOT_SET";
        return (
          <div class="filter-row" key={index}>
            <label>
              <span class="sr-only">Property of filter {index + 1}</span>
              <input
                list={`${id}-props`}
                placeholder="property (a.b for nested)"
                value={row.property}
                onInput={(e) => update(index, { property: e.currentTarget.value })}
              />
            </label>
            <label>
              <span class="sr-only">Comparison of filter {index + 1}</span>
              <select value={row.op} onChange={(e) => update(index, { op: e.currentTarget.value as FilterOp })}>
                {OPS.map(([op, text]) => (
                  <option key={op} value={op}>
                    {text}
                  </option>
                ))}
              </select>
            </label>
            {needsValue && (
              <label>
                <span class="sr-only">Value of filter {index + 1}</span>
                <input
                  list={`${id}-values-${index}`}
                  placeholder={row.op === "IN" || row.op === "NOT_IN" ? "a, b, c" : "value"}
                  value={row.value}
                  onInput={(e) => update(index, { value: e.currentTarget.value })}
                />
                <datalist id={`${id}-values-${index}`}>
                  {(info?.topValues ?? []).map((value) => (
                    <option key={JSON.stringify(value)} value={typeof value === "string" ? value : JSON.stringify(value)} />
                  ))}
                </datalist>
              </label>
            )}
            <button type="button" class="link" onClick={() => onChange(rows.filter((_, i) => i !== index))}>
              Remove<span class="sr-only"> filter {index + 1}</span>
            </button>
          </div>
        );
      })}
      <button type="button" class="secondary" onClick={() => onChange([...rows, { property: "", op: "EQ", value: "" }])}>
        Add filter
      </button>
    </fieldset>
  );
}
