/** uPlot charts (canvas, ~45 KB, maintained): sized to their card, redrawn on resize. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { money } from './format.js';

export interface SeriesSpec {
  label: string;
  color: string;
  kind?: 'line' | 'bars';
  /** Which y scale: `$` (left) or `cum` (right, for a running total). */
  scale?: string;
  dash?: number[];
  fill?: string;
}

const bars = uPlot.paths.bars?.({ size: [0.6, 40] });

export function Chart({ data, series, title, height = 260, money: isMoney = true, hourly = false, secondAxis }: {
  data: Array<Array<number | null>>;
  series: SeriesSpec[];
  title: string;
  height?: number;
  money?: boolean;
  hourly?: boolean;
  secondAxis?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const fmt = (v: number | null) => (v === null || v === undefined ? '—' : isMoney ? money(v, { hourly }) : String(v));
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, $: {}, ...(secondAxis ? { cum: {} } : {}) },
      axes: [
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' } },
        { scale: '$', stroke: '#5b6472', grid: { stroke: '#eef0f3' }, size: 76, values: (_u, vals) => vals.map((v) => (isMoney ? money(v) : String(v))) },
        ...(secondAxis ? [{ scale: 'cum', side: 1, stroke: '#5b6472', grid: { show: false }, size: 84, label: secondAxis, values: (_u: uPlot, vals: number[]) => vals.map((v) => money(v)) }] : []),
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.kind === 'bars' ? 1 : 2,
          scale: s.scale ?? '$',
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => fmt(v),
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.kind === 'bars' ? { paths: bars, fill: s.fill ?? `${s.color}99`, points: { show: false } } : s.fill ? { fill: s.fill } : {}),
        })),
      ],
    };
    const plot = new uPlot(opts, data as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, series, height, isMoney, hourly, secondAxis]);
  return <div class="chart" ref={box} role="img" aria-label={title} />;
}
