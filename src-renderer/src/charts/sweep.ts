// A sweep's charts: a metric against one varied parameter (mean with ± sd error bars, one line per combination
// of the other varied parameters), and parallel coordinates through every varied parameter to the accuracy.
import type { SweepChild, SweepRow } from '@contract';
import { metricName, valueText, combinationText, type SweepMetric } from '../lib/sweep';
import { paramLabel } from '../lib/format';
import type { EChartsOption } from './echarts';
import { axisStyle, HEAT_DARK, HEAT_LIGHT, optionFrame, palette, textColors, titleBlock, type ChartCtx } from './theme';

/** One point of the metric chart: the mean (and sd) of a metric at one value of the chosen parameter. */
export interface SweepPoint {
  x: string;
  /** The other varied parameters' values (one line each); '' when there are none. */
  group: string;
  mean: number;
  sd: number | null;
}

/** A metric in the unit its axis shows: accuracy in %, time in seconds. */
const scale = (metric: SweepMetric, v: number): number => (metric === 'accuracy' ? v * 100 : metric === 'totalMs' ? v / 1000 : v);
const axisName = (metric: SweepMetric): string =>
  metric === 'accuracy' ? 'Accuracy (%)' : metric === 'totalMs' ? 'Time (s)' : metricName(metric);

const without = (values: Record<string, unknown>, param: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(values).filter(([k]) => k !== param));

/** The values of the x axis in order: numbers ascending, anything else as the sweep listed them. */
function categoriesOf(raw: unknown[], param: string): string[] {
  const distinct = raw.filter((v, i) => raw.findIndex((w) => JSON.stringify(w) === JSON.stringify(v)) === i);
  if (distinct.every((v) => typeof v === 'number')) (distinct as number[]).sort((a, b) => a - b);
  return distinct.map((v) => valueText(param, v));
}

/**
 * The chart's points for `param`: a grid parameter's from the summary rows (mean ± sd over the seeds); the seed's
 * from the completed children themselves (one value each, no error bar).
 */
export function pointsAgainst(
  rows: SweepRow[],
  children: SweepChild[],
  param: string,
  metric: SweepMetric,
): { categories: string[]; points: SweepPoint[] } {
  if (param === 'seed') {
    const done = children.filter((c) => c.state === 'completed' && c.run && c.run[metric] !== null);
    return {
      categories: categoriesOf(
        done.map((c) => c.values.seed),
        'seed',
      ),
      points: done.map((c) => ({
        x: valueText('seed', c.values.seed),
        group: combinationText(without(c.values, 'seed')),
        mean: c.run![metric] as number,
        sd: null,
      })),
    };
  }
  const measured = rows.filter((r) => r[metric].mean !== null);
  return {
    categories: categoriesOf(
      measured.map((r) => r.values[param]),
      param,
    ),
    points: measured.map((r) => ({
      x: valueText(param, r.values[param]),
      group: combinationText(without(r.values, param)),
      mean: r[metric].mean as number,
      sd: r[metric].sd,
    })),
  };
}

interface ErrorBarApi {
  value: (dim: number) => number;
  coord: (point: number[]) => number[];
}

/** An error bar drawn by a custom series: a vertical line from mean − sd to mean + sd with caps. */
function errorBar(color: string) {
  return (_params: unknown, api: ErrorBarApi) => {
    const x = api.value(0);
    const low = api.coord([x, api.value(1)]);
    const high = api.coord([x, api.value(2)]);
    const cap = 5;
    const style = { stroke: color, lineWidth: 1.5 };
    const line = (x1: number, y1: number, x2: number, y2: number) => ({ type: 'line', shape: { x1, y1, x2, y2 }, style });
    return {
      type: 'group',
      children: [
        line(low[0], low[1], high[0], high[1]),
        line(low[0] - cap, low[1], low[0] + cap, low[1]),
        line(high[0] - cap, high[1], high[0] + cap, high[1]),
      ],
    };
  };
}

/** A metric against one varied parameter: the means joined by a line per group, ± sd as error bars. */
export function sweepMetricOption(
  input: { categories: string[]; points: SweepPoint[]; param: string; metric: SweepMetric },
  ctx: ChartCtx,
): EChartsOption {
  const t = titleBlock(ctx);
  const axis = axisStyle(ctx);
  const colors = palette(ctx);
  const { categories, points, metric } = input;
  const groups = [...new Set(points.map((p) => p.group))];
  const digits = metric === 'accuracy' ? 2 : metric === 'totalMs' ? 1 : 4;
  const series = groups.flatMap((group, g) => {
    const color = colors[g % colors.length];
    const mine = points.filter((p) => p.group === group);
    const name = group || metricName(metric);
    return [
      {
        name,
        type: 'line',
        data: mine.map((p) => ({
          value: [categories.indexOf(p.x), scale(metric, p.mean)],
          sd: p.sd === null ? null : scale(metric, p.sd),
        })),
        symbolSize: 8,
        lineStyle: { width: 2, color },
        itemStyle: { color },
        z: 3,
      },
      {
        name,
        type: 'custom',
        renderItem: errorBar(color),
        data: mine
          .filter((p) => p.sd !== null)
          .map((p) => [categories.indexOf(p.x), scale(metric, p.mean - p.sd!), scale(metric, p.mean + p.sd!)]),
        encode: { x: 0, y: [1, 2] },
        tooltip: { show: false },
        z: 2,
      },
    ];
  });
  return {
    ...optionFrame(ctx, t),
    tooltip: {
      trigger: 'item',
      formatter: (p: { seriesName: string; data: { value: number[]; sd: number | null } }) => {
        const [x, mean] = p.data.value;
        const sd = p.data.sd === null ? '' : ` ± ${p.data.sd.toFixed(digits)}`;
        const head = groups.length > 1 ? `${p.seriesName}<br/>` : '';
        return `${head}${paramLabel(input.param)} <b>${categories[x]}</b><br/>${axisName(metric)} <b>${mean.toFixed(digits)}${sd}</b>`;
      },
    },
    legend: groups.length > 1 ? { top: t.top + 4, type: 'scroll', textStyle: { color: textColors(ctx).muted } } : undefined,
    grid: { left: 64, right: 24, top: t.top + (groups.length > 1 ? 40 : 16), bottom: 48 },
    xAxis: {
      type: 'category',
      data: categories,
      name: paramLabel(input.param),
      nameLocation: 'middle',
      nameGap: 30,
      ...axis,
      splitLine: { show: false },
    },
    yAxis: { type: 'value', name: axisName(metric), nameLocation: 'middle', nameGap: 46, scale: true, ...axis },
    series,
  };
}

/**
 * Parallel coordinates: one line per completed child through every varied parameter (seed included) to its
 * accuracy, coloured by the accuracy.
 */
export function sweepParallelOption(children: SweepChild[], varied: string[], ctx: ChartCtx): EChartsOption {
  const t = titleBlock(ctx);
  const c = textColors(ctx);
  const done = children.filter((ch) => ch.state === 'completed' && ch.run?.accuracy != null);
  const accuracy = done.map((ch) => (ch.run!.accuracy as number) * 100);
  const axis = axisStyle(ctx);
  const parallelAxis = [
    ...varied.map((param, dim) => ({
      dim,
      name: paramLabel(param),
      type: 'category',
      data: categoriesOf(
        done.map((ch) => ch.values[param]),
        param,
      ),
    })),
    { dim: varied.length, name: 'Accuracy (%)', type: 'value', scale: true },
  ];
  return {
    ...optionFrame(ctx, t),
    tooltip: { trigger: 'item' },
    parallel: {
      left: 70,
      right: 120,
      top: t.top + 36,
      bottom: 30,
      parallelAxisDefault: {
        nameLocation: 'end',
        nameGap: 14,
        nameTextStyle: { color: c.text, fontWeight: 600 },
        axisLine: axis.axisLine,
        axisTick: axis.axisTick,
        axisLabel: axis.axisLabel,
      },
    },
    parallelAxis,
    visualMap: {
      type: 'continuous',
      dimension: varied.length,
      min: accuracy.length ? Math.min(...accuracy) : 0,
      max: accuracy.length ? Math.max(...accuracy) : 100,
      right: 8,
      top: 'middle',
      itemHeight: 160,
      precision: 1,
      text: ['acc. %', ''],
      inRange: { color: ctx.dark ? HEAT_DARK.slice(2) : HEAT_LIGHT.slice(1) },
      textStyle: { color: c.muted },
    },
    series: [
      {
        type: 'parallel',
        lineStyle: { width: 2, opacity: 0.75 },
        data: done.map((ch, i) => [...varied.map((param) => valueText(param, ch.values[param])), Number(accuracy[i].toFixed(2))]),
      },
    ],
  };
}
