import type { Command } from 'commander';
import { backendStatuses } from '../../service/queries';
import { globals, printJson } from '../context';

export function registerBackendsCommand(program: Command): void {
  program
    .command('backends')
    .description('list the tfjs backends: available or why not, device, measured training speed')
    .option('--no-measure', 'skip the short training calibration')
    .option('--json', 'print JSON')
    .action(async (opts: { measure: boolean; json?: boolean }, command: Command) => {
      // the probe behind the UI's backends.list, with everything it found (threads, training path, notes)
      const list = await backendStatuses({
        measure: opts.measure,
        wasmThreads: globals(command).wasmThreads,
        onProgress: (msg) => process.stderr.isTTY && process.stderr.write(`${msg}\n`),
      });
      if (opts.json) return printJson(list);
      for (const b of list) {
        const speed = b.imagesPerSec !== undefined ? `${Math.round(b.imagesPerSec)} images/s` : '';
        const line = b.available
          ? `${b.name.padEnd(10)} available   ${speed.padEnd(16)} ${b.device ?? ''}${b.software ? ' (software)' : ''}`
          : `${b.name.padEnd(10)} unavailable ${b.reason ?? ''}`;
        process.stdout.write(`${line.trimEnd()}\n`);
      }
    });
}
