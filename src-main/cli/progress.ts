import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../engine/types';

/** A progress bar on stderr that follows engine progress events; silent when stderr is not a terminal. */
export function createProgressReporter(enabled = process.stderr.isTTY === true) {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{phase} [{bar}] {percentage}% | {detail}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let phase = '';
  return {
    onProgress(event: ProgressEvent): void {
      if (!enabled) return;
      const detail = describe(event);
      const value = Math.round((event.fraction ?? 0) * 1000);
      if (!started) {
        bar.start(1000, value, { phase: event.phase, detail });
        started = true;
      } else {
        if (event.phase !== phase) bar.setTotal(1000);
        bar.update(value, { phase: event.phase, detail });
      }
      phase = event.phase;
    },
    /** A warning from the engine: always printed (terminal or not), on its own line. */
    warn(message: string): void {
      if (started) bar.stop();
      started = false;
      process.stderr.write(`clusterbench: warning: ${message}\n`);
    },
    stop(): void {
      if (started) bar.stop();
      started = false;
    },
  };
}

function describe(e: ProgressEvent): string {
  if (e.message) return String(e.message);
  const parts: string[] = [];
  if (typeof e.epoch === 'number' && typeof e.epochs === 'number') parts.push(`epoch ${e.epoch}/${e.epochs}`);
  for (const key of ['init', 'iter', 'inertia', 'lowerBound', 'trainLoss', 'valLoss']) {
    const v = e[key];
    if (typeof v === 'number') parts.push(`${key} ${Number.isInteger(v) ? v : v.toPrecision(5)}`);
  }
  if (typeof e.imagesPerSec === 'number') parts.push(`${Math.round(e.imagesPerSec)} img/s`);
  if (typeof e.etaSeconds === 'number') parts.push(`ETA ${formatSeconds(e.etaSeconds)}`);
  return parts.join(' ');
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
