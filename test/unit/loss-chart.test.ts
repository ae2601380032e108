/**
 * The loss chart's options (renderer, pure): train solid and validation dashed in every case — the Compare card's
 * title promises it — and each run drawn in the colour it is given (its Compare chip), even when it is the only one.
 */
import { describe, expect, it } from 'vitest';
import type { EpochLoss } from '../../src-main/contract/index';
import { lossOption } from '../../src-renderer/src/charts/loss';
import { SERIES_LIGHT } from '../../src-renderer/src/charts/theme';

const losses: EpochLoss[] = [1, 2, 3].map((epoch) => ({ epoch, trainLoss: 0.5 / epoch, valLoss: 0.6 / epoch }) as EpochLoss);

interface Line {
  name: string;
  lineStyle: { type?: string; color: string };
  itemStyle: { color: string };
}
const lines = (option: unknown) => (option as { series: Line[] }).series;

describe('lossOption', () => {
  it('draws train solid and validation dashed for one run too', () => {
    const [train, val] = lines(lossOption([{ name: '#1', losses }], { dark: false }));
    expect(train.lineStyle.type ?? 'solid').toBe('solid');
    expect(val.lineStyle.type).toBe('dashed');
  });

  it("keeps a lone run's given colour (Compare: the second run's chip) for both of its lines", () => {
    const chip = SERIES_LIGHT[1]; // the AE run is second in Compare, after a k-means run without losses
    const [train, val] = lines(lossOption([{ name: '#7', losses, color: chip }], { dark: false }));
    for (const line of [train, val]) {
      expect(line.lineStyle.color).toBe(chip);
      expect(line.itemStyle.color).toBe(chip);
    }
    expect(val.lineStyle.type).toBe('dashed');
  });

  it('gives each of several runs its own colour, train solid and validation dashed', () => {
    const series = lines(
      lossOption(
        [
          { name: '#1', losses, color: SERIES_LIGHT[0] },
          { name: '#2', losses, color: SERIES_LIGHT[2] },
        ],
        { dark: false },
      ),
    );
    expect(series.map((s) => [s.name, s.lineStyle.color, s.lineStyle.type ?? 'solid'])).toEqual([
      ['#1 · train', SERIES_LIGHT[0], 'solid'],
      ['#1 · validation', SERIES_LIGHT[0], 'dashed'],
      ['#2 · train', SERIES_LIGHT[2], 'solid'],
      ['#2 · validation', SERIES_LIGHT[2], 'dashed'],
    ]);
  });
});
