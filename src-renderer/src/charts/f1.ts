import type { EChartsOption } from './echarts';
import { axisStyle, barTooltip, optionFrame, textColors, titleBlock, type ChartCtx } from './theme';

/** Per-class F1 bars, one series per run. */
export function f1Option(classNames: string[], runs: { name: string; f1: number[]; color?: string }[], ctx: ChartCtx): EChartsOption {
  const t = titleBlock(ctx);
  const axis = axisStyle(ctx);
  return {
    ...optionFrame(ctx, t),
    tooltip: {
      ...barTooltip,
      valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : String(v)),
    },
    legend: { top: t.top + 4, textStyle: { color: textColors(ctx).muted } },
    grid: { left: 56, right: 20, top: t.top + 42, bottom: 70 },
    xAxis: {
      type: 'category',
      data: classNames,
      ...axis,
      splitLine: { show: false },
      axisLabel: { ...(axis.axisLabel as object), rotate: 30, interval: 0 },
    },
    yAxis: { type: 'value', name: 'F1', nameLocation: 'middle', nameGap: 38, min: 0, max: 1, ...axis },
    series: runs.map((r) => ({
      name: r.name,
      type: 'bar',
      data: r.f1.map((v) => Number(v.toFixed(4))),
      barMaxWidth: 22,
      ...(r.color ? { itemStyle: { color: r.color } } : {}),
    })),
  };
}
