/** What every option builder needs to know: the theme, and the title when the chart is being exported. */
export interface ChartCtx {
  dark: boolean;
  /** Export only: the figure's title and subtitle (task, parameters, accuracy). */
  title?: string;
  subtitle?: string;
  exporting?: boolean;
}

export const SERIES_LIGHT = ['#2d6bd8', '#e07a2f', '#2a9a62', '#b8438f', '#7257d1', '#a89321'];
export const SERIES_DARK = ['#5c98f5', '#f0a05f', '#52c48a', '#e072b9', '#9d86f0', '#d6c35a'];

export function palette(ctx: ChartCtx): string[] {
  return ctx.dark ? SERIES_DARK : SERIES_LIGHT;
}

export function textColors(ctx: ChartCtx): { text: string; muted: string; line: string; split: string } {
  return ctx.dark
    ? { text: '#e4e8ee', muted: '#a1abb9', line: '#414a5a', split: '#2a303b' }
    : { text: '#1a1f27', muted: '#5a6474', line: '#c3cad5', split: '#e6e9ef' };
}

export const HEAT_LIGHT = ['#f4f7fc', '#cfdff8', '#86aef0', '#3b78dc', '#17418f'];
export const HEAT_DARK = ['#1c222c', '#1e3a63', '#2f63b3', '#5c98f5', '#c2d9ff'];

/** Title block and the top margin the plot needs under it. */
export function titleBlock(ctx: ChartCtx): { title?: Record<string, unknown>; top: number } {
  if (!ctx.title) return { top: 0 };
  const c = textColors(ctx);
  return {
    title: {
      text: ctx.title,
      subtext: ctx.subtitle,
      left: 'center',
      top: 10,
      textStyle: { fontSize: 15, fontWeight: 600, color: c.text },
      subtextStyle: { fontSize: 11.5, color: c.muted, lineHeight: 16 },
    },
    top: ctx.subtitle ? 52 + 17 * ctx.subtitle.split('\n').length : 48,
  };
}

/** Whether the person (or the OS) asked for less motion: charts then draw their final frame at once. */
export function prefersReducedMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/** Charts animate on screen, never in an exported figure, nor for someone who asked for less motion. */
export const chartAnimation = (ctx: ChartCtx): boolean => !ctx.exporting && !prefersReducedMotion();

export function baseOption(ctx: ChartCtx): Record<string, unknown> {
  const c = textColors(ctx);
  return {
    backgroundColor: ctx.exporting ? (ctx.dark ? '#1a1e25' : '#ffffff') : 'transparent',
    color: palette(ctx),
    // Single quotes in the font list: ECharts writes it unescaped into an SVG export's style="…" attribute.
    textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif", color: c.text },
    animation: chartAnimation(ctx),
  };
}

/** What every option starts with: the shared look and, when exporting, the title block. */
export function optionFrame(ctx: ChartCtx, t: ReturnType<typeof titleBlock>): Record<string, unknown> {
  return { ...baseOption(ctx), ...(t.title ? { title: t.title } : {}) };
}

/** Bar charts' tooltip: one box per category, the category shaded. */
export const barTooltip = { trigger: 'axis', axisPointer: { type: 'shadow' } } as const;

export function axisStyle(ctx: ChartCtx): Record<string, unknown> {
  const c = textColors(ctx);
  return {
    axisLine: { lineStyle: { color: c.line } },
    axisTick: { lineStyle: { color: c.line } },
    axisLabel: { color: c.muted },
    splitLine: { lineStyle: { color: c.split } },
    nameTextStyle: { color: c.muted },
  };
}
