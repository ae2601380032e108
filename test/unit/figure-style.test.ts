/**
 * One style for every exported confusion figure: the renderer's export of a sweep's mean matrix and the server's
 * run figure take palette, text colour and font from one module (contract/figure-style).
 */
import { describe, expect, it } from 'vitest';
import { FIGURE_BLUES, FIGURE_FONT_FAMILY, FIGURE_TEXT } from '../../src-main/contract/figure-style';
import { confusionChartOption } from '../../src-main/engine/report/index';
import { confusionOption } from '../../src-renderer/src/charts/confusion';

const M = [
  [3, 1],
  [0, 4],
];
interface Styled {
  visualMap: { inRange: { color: string[] } };
  textStyle: { fontFamily: string; color: string };
}

describe('figure style', () => {
  it('is the same for the renderer’s exported confusion and the server’s', () => {
    const renderer = confusionOption(M, ['a', 'b'], { dark: false, exporting: true, title: 'T', normalize: true }) as unknown as Styled;
    const server = confusionChartOption({ confusion: M, classNames: ['a', 'b'], title: 'T' }) as unknown as Styled;
    expect(renderer.visualMap.inRange.color).toEqual(FIGURE_BLUES);
    expect(server.visualMap.inRange.color).toEqual(FIGURE_BLUES);
    expect(renderer.textStyle.color).toBe(FIGURE_TEXT);
    expect(server.textStyle.color).toBe(FIGURE_TEXT);
    // the same first family (the server puts the font it found first: DejaVu Sans on Linux)
    expect(renderer.textStyle.fontFamily).toBe(FIGURE_FONT_FAMILY);
    expect(server.textStyle.fontFamily.split(',')[0]).toBe(FIGURE_FONT_FAMILY.split(',')[0]);
  });

  it('leaves the on-screen chart in the app’s theme', () => {
    const screen = confusionOption(M, ['a', 'b'], { dark: false }) as unknown as Styled;
    expect(screen.visualMap.inRange.color).not.toEqual(FIGURE_BLUES);
  });
});
