// A uPlot time-series chart, resized with its container. The same numbers are always
// also given as a table next to it (DataTable), for screen readers and for copying.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const PALETTE = ["#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#dc2626", "#4b5563", "#65a30d"];

export function color(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

export interface ChartProps {
  /** Epoch seconds of each point. */
  x: number[];
  series: { label: string; values: number[] }[];
  /** The zone the x axis is labelled in. */
  timeZone: string;
  /** Day-valued points: bars per day instead of lines. */
  bars?: boolean;
  label: string;
  height?: number;
}

export function Chart({ x, series, timeZone, bars, label, height = 260 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 280),
      height,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), timeZone),
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Half a day either side, so the first and last bars are whole.
        ...(bars ? { x: { range: (_u, min, max) => [min - 43_200, max + 43_200] as uPlot.Range.MinMax } } : {}),
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [{}, { size: 56 }],
      series: [
        {},
        ...series.map((one, index) => ({
          label: one.label,
          stroke: color(index),
          width: 2,
          fill: series.length === 1 ? color(index) + "22" : undefined,
          points: { show: x.length <= 60 },
          ...(bars && series.length === 1 ? { paths: uPlot.paths.bars!({ size: [0.7, 40] }), fill: color(index) + "cc" } : {}),
        })),
      ],
    };
    const plot = new uPlot(options, [x, ...series.map((one) => one.values)], element);
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 280), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify({ x, series, timeZone, bars }), height]);
  return <div class="chart" ref={box} role="img" aria-label={label} />;
}
