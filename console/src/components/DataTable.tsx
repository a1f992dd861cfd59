// The numbers behind a chart, as a table (screen readers, copying, and checking).
import type { ComponentChildren } from "preact";

export function DataTable({
  caption,
  head,
  rows,
  id,
  open = false,
}: {
  caption: string;
  head: string[];
  rows: ComponentChildren[][];
  id?: string;
  open?: boolean;
}) {
  return (
    <details class="data" open={open}>
      <summary>Data table</summary>
      <div class="scroll">
        <table id={id}>
          <caption class="sr-only">{caption}</caption>
          <thead>
            <tr>
              {head.map((cell) => (
                <th scope="col" key={cell}>
                  {cell}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={index}>
                {row.map((cell, i) => (i === 0 ? <th scope="row" key={i}>{cell}</th> : <td key={i}>{cell}</td>))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat().format(value);
}
