/**
 * Issue 22: `auto` calibrates (~25 s the first time) only when a network is about to train. A run that trains none
 * (k-means or GMM on pixels) takes the cached choice or starts the default backend untimed, writes no calibration,
 * and a calibration that does happen is announced first, so the run shows it as its own phase.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectAutoBackend, shutdownBackends, tf, type MeasureFn } from '../../src-main/engine/backend/index';
import { UNCALIBRATED_ORDER } from '../../src-main/engine/backend/selection';
import { installedTensorflowPackage } from '../../src-main/engine/backend/tensorflow';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clusterbench-calibrate-'));
});
afterAll(() => {
  shutdownBackends();
  rmSync(dir, { recursive: true, force: true });
});

/** A calibration that records which backends it timed, each at `imagesPerSec`. */
function countingMeasure(imagesPerSec = 100): { fn: MeasureFn; timed: string[] } {
  const timed: string[] = [];
  const fn: MeasureFn = async (name) => {
    timed.push(name);
    return imagesPerSec;
  };
  return { fn, timed };
}

describe('auto without a network to train', () => {
  it('times nothing, writes no calibration, and starts the default backend', async () => {
    const cachePath = join(dir, 'none.json');
    const { fn, timed } = countingMeasure();
    let announced = 0;
    const sel = await selectAutoBackend({ cachePath, measureFn: fn, gpuAdapter: null, calibrate: false, onCalibrating: () => announced++ });
    expect(timed).toEqual([]); // old code: tensorflow/wasm timed before any k-means
    expect(announced).toBe(0);
    expect(existsSync(cachePath)).toBe(false);
    const expected = UNCALIBRATED_ORDER.find((n) => n !== 'tensorflow' || installedTensorflowPackage());
    expect(sel.info.name).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    expect(sel.info.imagesPerSec).toBeUndefined();
  });

  it('still uses a cached calibration when there is one', async () => {
    const cachePath = join(dir, 'cached.json');
    const first = countingMeasure(250);
    await selectAutoBackend({ cachePath, measureFn: first.fn, gpuAdapter: null });
    const again = countingMeasure();
    const sel = await selectAutoBackend({ cachePath, measureFn: again.fn, gpuAdapter: null, calibrate: false });
    expect(again.timed).toEqual([]);
    expect(sel.fromCache).toBe(true);
    expect(sel.info.imagesPerSec).toBe(250);
  });
});

describe('auto before training', () => {
  it('announces the calibration before timing the first backend', async () => {
    const events: string[] = [];
    const fn: MeasureFn = async (name) => {
      events.push(`timed ${name}`);
      return 100;
    };
    await selectAutoBackend({
      cachePath: join(dir, 'train.json'),
      measureFn: fn,
      gpuAdapter: null,
      onCalibrating: () => events.push('calibrating'),
    });
    expect(events[0]).toBe('calibrating');
    expect(events.filter((e) => e === 'calibrating')).toHaveLength(1);
    expect(events.some((e) => e.startsWith('timed '))).toBe(true);
  });
});
