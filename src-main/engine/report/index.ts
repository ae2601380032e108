export {
  confusionChartOption,
  renderConfusionSvg,
  svgToPng,
  exportConfusion,
  confusionTitleForRun,
  FONT_STACK,
  DEFAULT_WIDTH,
  DEFAULT_HEIGHT,
  type ConfusionChartInput,
  type RenderSize,
  type PngOptions,
  type ExportOptions,
} from './confusion-chart';
