import type { RunEmbedding } from '@contract';
import type { EChartsOption } from './echarts';
import { axisStyle, optionFrame, textColors, titleBlock, type ChartCtx } from './theme';

/** Ten distinguishable colours (one per Fashion-MNIST class / cluster), per theme. */
export const CATEGORY_LIGHT = [
  '#2d6bd8',
  '#e07a2f',
  '#2a9a62',
  '#d3434f',
  '#7257d1',
  '#8c5a3c',
  '#d45fb0',
  '#6e7783',
  '#a89321',
  '#1fa3b8',
];
export const CATEGORY_DARK = ['#5c98f5', '#f0a05f', '#52c48a', '#f06b73', '#9d86f0', '#c08a66', '#f08fd0', '#a3acb8', '#d6c35a', '#4fd0e2'];

export type EmbeddingColor = 'cluster' | 'label';

export interface EmbeddingChartInput {
  embedding: RunEmbedding;
  classNames: string[];
  /** Cluster → mapped label (Hungarian), for the cluster legend. */
  mapping: number[];
  colorBy: EmbeddingColor;
  /** Tooltip HTML for point i of the embedding (may load the image lazily). */
  tooltip?: (i: number, ticket: string, callback: (ticket: string, html: string) => void) => string;
}

export function groupName(input: Pick<EmbeddingChartInput, 'classNames' | 'mapping' | 'colorBy'>, g: number): string {
  if (input.colorBy === 'label') return input.classNames[g] ?? `label ${g}`;
  const mapped = input.mapping[g];
  return mapped !== undefined && mapped >= 0 ? `C${g} → ${input.classNames[mapped] ?? mapped}` : `Cluster ${g}`;
}

export function methodText(e: Pick<RunEmbedding, 'method' | 'source'>): string {
  const what = e.source === 'pixels' ? 'the pixels' : e.source === 'codes' ? 'the codes' : 'the embedding';
  return e.method === 'umap' ? `2-D UMAP of ${what}` : `PCA of ${what}`;
}

/** Scatter of a run's 2-D map, one series per cluster (or per true label) so the legend can toggle them. */
export function embeddingOption(input: EmbeddingChartInput, ctx: ChartCtx): EChartsOption {
  const { embedding: e, colorBy } = input;
  const t = titleBlock(ctx);
  const c = textColors(ctx);
  const axis = axisStyle(ctx);
  /** Both coordinates alike: no zero line, no grid, no end labels (the map's scale means little). */
  const coordinateAxis = () => ({
    type: 'value' as const,
    scale: true,
    ...axis,
    axisLine: { ...(axis.axisLine as object), onZero: false },
    splitLine: { show: false },
    axisLabel: { ...(axis.axisLabel as object), showMaxLabel: false, showMinLabel: false },
  });
  const groups = colorBy === 'cluster' ? e.clusters : e.labels;
  const count = Math.max(colorBy === 'label' ? input.classNames.length : input.mapping.length, ...groups.map((g) => g + 1), 0);
  const data: [number, number, number][][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (g >= 0 && g < count) data[g].push([e.points[2 * i], e.points[2 * i + 1], i]);
  }
  const colors = ctx.dark ? CATEGORY_DARK : CATEGORY_LIGHT;
  const names = data.map((_, g) => groupName(input, g));
  return {
    ...optionFrame(ctx, t),
    color: colors,
    tooltip:
      input.tooltip && !ctx.exporting
        ? {
            trigger: 'item',
            enterable: false,
            confine: true,
            formatter: (p: unknown, ticket: string, callback: (ticket: string, html: string) => void) => {
              const v = (p as { data?: [number, number, number] }).data;
              return v ? input.tooltip!(v[2], ticket, callback) : '';
            },
          }
        : undefined,
    legend: {
      type: 'scroll',
      orient: 'vertical',
      right: 8,
      top: t.top + 12,
      bottom: 20,
      itemWidth: 10,
      itemHeight: 10,
      textStyle: { color: c.muted, fontSize: 11.5 },
      data: names.filter((_, g) => data[g].length > 0),
    },
    grid: { left: 44, right: 160, top: t.top + 16, bottom: 36 },
    xAxis: coordinateAxis(),
    yAxis: coordinateAxis(),
    series: data.map((d, g) => ({
      name: names[g],
      type: 'scatter',
      data: d,
      symbolSize: e.clusters.length > 3000 ? 3 : e.clusters.length > 800 ? 4 : 6,
      itemStyle: { color: colors[g % colors.length], opacity: 0.75 },
      emphasis: { focus: 'series', itemStyle: { opacity: 1, borderColor: c.text, borderWidth: 1 } },
      large: false,
      animation: false,
    })),
  };
}
