import type { EChartsOption } from './echarts';
import { FIGURE_BLUES, FIGURE_FONT_FAMILY, FIGURE_TEXT } from '@contract/figure-style';
import { axisStyle, HEAT_DARK, HEAT_LIGHT, optionFrame, textColors, titleBlock, type ChartCtx } from './theme';

/**
 * Confusion matrix heatmap: rows true label (top to bottom), columns predicted (mapped) label. `averageOf`: the
 * cells are row shares averaged over that many runs (a sweep's children), not counts.
 */
export function confusionOption(
  confusion: number[][],
  classNames: string[],
  ctx: ChartCtx & { normalize?: boolean; compact?: boolean; averageOf?: number },
): EChartsOption {
  const t = titleBlock(ctx);
  const n = classNames.length;
  const rowSums = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const data: Record<string, unknown>[] = [];
  let max = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const count = confusion[r]?.[c] ?? 0;
      const value = ctx.normalize ? (rowSums[r] ? count / rowSums[r] : 0) : count;
      max = Math.max(max, value);
      data.push({ value: [c, r, value, count] });
    }
  }
  // An exported figure has the server-rendered figures' one style (contract/figure-style): palette, text, font.
  const figure = ctx.exporting && !ctx.dark;
  const heat = figure ? FIGURE_BLUES : ctx.dark ? HEAT_DARK : HEAT_LIGHT;
  // Label colour from the cell's share of the maximum, so the numbers stay readable on every shade.
  for (const d of data) {
    const v = (d.value as number[])[2];
    const strong = max > 0 && v / max > 0.55;
    d.label = { color: ctx.dark ? (strong ? '#0d1420' : '#dfe6f0') : strong ? '#ffffff' : figure ? FIGURE_TEXT : '#1a1f27' };
  }
  const compact = ctx.compact ?? false;
  const fmt = (v: number) => (ctx.normalize ? (v === 0 ? '0' : `${Math.round(v * 100)}`) : String(v));
  const axis = axisStyle(ctx);
  /** Both axes list the classes, every label shown; their names only on the full-size chart. */
  const classAxis = (name: string, nameGap: number, labelRotate: number) => ({
    type: 'category' as const,
    data: classNames,
    name: compact ? '' : name,
    nameLocation: 'middle' as const,
    nameGap,
    ...axis,
    splitLine: { show: false },
    axisLabel: { ...(axis.axisLabel as object), rotate: labelRotate, interval: 0, fontSize: compact ? 9.5 : 11.5 },
  });
  const frame = optionFrame(ctx, t);
  return {
    ...frame,
    ...(figure ? { textStyle: { ...(frame.textStyle as object), fontFamily: FIGURE_FONT_FAMILY, color: FIGURE_TEXT } } : {}),
    tooltip: {
      position: 'top',
      formatter: (p: { value: number[] }) => {
        const [c, r, , count] = p.value;
        const share = rowSums[r] ? ((count / rowSums[r]) * 100).toFixed(1) : '0';
        const cell = ctx.averageOf
          ? `${share}% of the row (mean of ${ctx.averageOf} run${ctx.averageOf === 1 ? '' : 's'})`
          : `${count} images (${share}% of the row)`;
        return `True <b>${classNames[r]}</b><br/>Predicted <b>${classNames[c]}</b><br/>${cell}`;
      },
    },
    grid: { left: compact ? 78 : 104, right: compact ? 12 : 78, top: t.top + (compact ? 8 : 16), bottom: compact ? 66 : 86 },
    xAxis: { ...classAxis('Predicted label', 66, 40), splitArea: { show: false } },
    yAxis: { ...classAxis('True label', 90, 0), inverse: true },
    visualMap: {
      min: 0,
      max: max || 1,
      calculable: false,
      text: [ctx.normalize ? `${Math.round((max || 1) * 100)}%` : String(max || 1), '0'],
      textGap: 6,
      orient: 'vertical',
      right: 8,
      top: 'middle',
      itemHeight: 180,
      show: !compact,
      inRange: { color: heat },
      textStyle: { color: textColors(ctx).muted },
    },
    series: [
      {
        type: 'heatmap',
        data,
        label: { show: true, fontSize: compact ? 9 : n > 12 ? 9 : 11, formatter: (p: { value: number[] }) => fmt(p.value[2]) },
        itemStyle: { borderColor: ctx.dark ? '#12151a' : '#ffffff', borderWidth: 1 },
        emphasis: { itemStyle: { borderColor: ctx.dark ? '#e4e8ee' : '#1a1f27', borderWidth: 1.5 } },
      },
    ],
  };
}
