import type { EChartsOption } from './echarts';
import { axisStyle, barTooltip, optionFrame, palette, titleBlock, type ChartCtx } from './theme';

/** Pixel-value histogram: 256 raw bins (0–255) or 20 normalised bins over [0, 1]. */
export function histogramOption(counts: number[], ctx: ChartCtx & { normalized: boolean; log?: boolean }): EChartsOption {
  const t = titleBlock(ctx);
  const n = counts.length;
  const labels = ctx.normalized
    ? counts.map((_, i) => `${(i / n).toFixed(2)}–${((i + 1) / n).toFixed(2)}`)
    : counts.map((_, i) => String(i));
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  const axis = axisStyle(ctx);
  return {
    ...optionFrame(ctx, t),
    tooltip: {
      ...barTooltip,
      formatter: (ps: { dataIndex: number }[]) => {
        const i = ps[0]?.dataIndex ?? 0;
        return `${ctx.normalized ? 'Value' : 'Pixel'} ${labels[i]}<br/><b>${counts[i].toLocaleString('en-US')}</b> pixels (${((counts[i] / total) * 100).toFixed(2)}%)`;
      },
    },
    grid: { left: 72, right: 20, top: t.top + 16, bottom: ctx.normalized ? 64 : 46 },
    xAxis: {
      type: 'category',
      data: labels,
      name: ctx.normalized ? 'Normalised value (pixel / 255)' : 'Raw pixel value',
      nameLocation: 'middle',
      nameGap: ctx.normalized ? 48 : 28,
      ...axis,
      axisLabel: { ...(axis.axisLabel as object), interval: ctx.normalized ? 1 : 31, rotate: ctx.normalized ? 30 : 0, fontSize: 10.5 },
      axisTick: { alignWithLabel: true, interval: ctx.normalized ? 1 : 31 },
    },
    yAxis: {
      type: ctx.log ? 'log' : 'value',
      name: 'Pixels',
      nameLocation: 'middle',
      nameGap: 56,
      min: ctx.log ? 1 : 0,
      ...axis,
      axisLabel: {
        ...(axis.axisLabel as object),
        formatter: (v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v)),
      },
    },
    series: [
      {
        type: 'bar',
        data: ctx.log ? counts.map((c) => (c > 0 ? c : null)) : counts,
        barCategoryGap: ctx.normalized ? '12%' : '0%',
        itemStyle: { color: palette(ctx)[ctx.normalized ? 1 : 0] },
        large: true,
      },
    ],
  };
}
