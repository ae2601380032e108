/**
 * vitest reporter: empties the skip log when the run starts and prints one line at its end listing what was
 * skipped for a missing prerequisite (see prereqs.ts), so a local run never hides a skip in its scroll-back.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Reporter } from 'vitest/reporters';
import { SKIP_LOG_ENV } from './prereqs';

export default class SkipSummary implements Reporter {
  private readonly log = process.env[SKIP_LOG_ENV];

  onInit(): void {
    if (this.log) rmSync(this.log, { force: true });
  }

  onTestRunEnd(): void {
    if (!this.log || !existsSync(this.log)) return;
    const reasons = [...new Set(readFileSync(this.log, 'utf8').split('\n').filter(Boolean))];
    rmSync(this.log, { force: true });
    if (reasons.length > 0) process.stdout.write(`\nSkipped for missing prerequisites: ${reasons.join('; ')}\n`);
  }
}
