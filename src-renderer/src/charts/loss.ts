import type { EpochLoss } from '@contract';
import type { EChartsOption } from './echarts';
import { axisStyle, chartAnimation, optionFrame, palette, textColors, titleBlock, type ChartCtx } from './theme';

export interface LossSeries {
  name: string;
  losses: EpochLoss[];
  /** Fixed colour (Compare keeps each run's colour across charts). */
  color?: string;
}

/** Train (solid) and validation (dashed) loss per epoch, for one run or several overlaid. */
export function lossOption(runs: LossSeries[], ctx: ChartCtx & { totalEpochs?: number; live?: boolean }): EChartsOption {
  const t = titleBlock(ctx);
  const colors = palette(ctx);
  const single = runs.length === 1;
  const series: Record<string, unknown>[] = [];
  runs.forEach((run, i) => {
    // A run's own colour (Compare: its chip's) is kept for both of its lines, told apart by the dash; only a lone
    // run without one gets two palette colours (besides the dash), as on a run's page.
    const twoColours = single && !run.color;
    const color = run.color ?? colors[i % colors.length];
    const trainColor = twoColours ? colors[0] : color;
    const valColor = twoColours ? colors[1] : color;
    const prefix = single ? '' : `${run.name} · `;
    series.push({
      name: `${prefix}train`,
      type: 'line',
      data: run.losses.map((l) => [l.epoch, l.trainLoss]),
      showSymbol: run.losses.length < 40,
      symbolSize: run.losses.length <= 3 ? 9 : 5,
      lineStyle: { width: 2, type: 'solid', color: trainColor },
      itemStyle: { color: trainColor },
    });
    if (run.losses.some((l) => l.valLoss !== null)) {
      series.push({
        name: `${prefix}validation`,
        type: 'line',
        data: run.losses.filter((l) => l.valLoss !== null).map((l) => [l.epoch, l.valLoss]),
        showSymbol: run.losses.length < 40,
        symbolSize: run.losses.length <= 3 ? 9 : 5,
        lineStyle: { width: 2, type: 'dashed', color: valColor },
        itemStyle: { color: valColor },
      });
    }
  });
  const maxEpoch = Math.max(1, ctx.totalEpochs ?? 0, ...runs.flatMap((r) => r.losses.map((l) => l.epoch)));
  return {
    ...optionFrame(ctx, t),
    // a live chart redraws every epoch: no animation there either
    animation: chartAnimation(ctx) && !ctx.live,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(5) : String(v)) },
    legend: { top: t.top + 4, type: 'scroll', textStyle: { color: textColors(ctx).muted } },
    grid: { left: 64, right: 24, top: t.top + 40, bottom: 44 },
    xAxis: {
      type: 'value',
      name: 'Epoch',
      nameLocation: 'middle',
      nameGap: 28,
      // One epoch: centre the point rather than pin it to an edge.
      min: maxEpoch <= 1 ? 0 : 1,
      max: maxEpoch <= 1 ? 2 : maxEpoch,
      minInterval: 1,
      ...axisStyle(ctx),
      axisLabel: {
        ...(axisStyle(ctx).axisLabel as object),
        formatter: (v: number) => (Number.isInteger(v) && v >= 1 && v <= maxEpoch ? String(v) : ''),
      },
    },
    yAxis: {
      type: 'value',
      name: 'Loss (binary cross-entropy)',
      nameLocation: 'middle',
      nameGap: 50,
      scale: true,
      boundaryGap: ['10%', '10%'],
      ...axisStyle(ctx),
      axisLabel: { ...(axisStyle(ctx).axisLabel as object), formatter: (v: number) => (v < 0.01 ? v.toExponential(1) : v.toFixed(3)) },
    },
    series,
  };
}
