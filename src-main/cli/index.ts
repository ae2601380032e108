import { Command, CommanderError, Option } from 'commander';
import { MAX_WASM_THREADS, WASM_THREADS_ENV } from '../engine/backend/wasm-threads';
import { PARAM_NAMES, type ParamError, type ParamName } from '../engine/schema/params';
import { wasmThreadsArg } from './args';
import { resolveCommandPaths } from './caller-path';
import { registerBackendsCommand } from './commands/backends';
import { registerDataCommands } from './commands/data';
import { registerDatasetsCommands } from './commands/datasets';
import { registerExportCommands } from './commands/export';
import { registerRunCommand } from './commands/run';
import { registerRunsCommands } from './commands/runs';
import { registerSweepCommands } from './commands/sweep';
import { registerWebCommand } from './commands/web';
import { paramFlag } from './param-options';

export function buildProgram(): Command {
  const program = new Command('clusterbench')
    .description('Clustering experiments on Fashion-MNIST: k-means, autoencoders, Gaussian mixtures, run history and figures.')
    .addOption(new Option('--db <file>', 'run history database (default: in the app data folder)').env('CLUSTERBENCH_DB'))
    .option('--data <dir>', 'folder with Fashion-MNIST (IDX or CSV files)')
    .addOption(
      new Option(
        '--wasm-threads <n>',
        `threads of the wasm backend (run, web, backends), 1–${MAX_WASM_THREADS} (default: one per core, at most ${MAX_WASM_THREADS})`,
      )
        .env(WASM_THREADS_ENV)
        .argParser(wasmThreadsArg),
    )
    .option('--verbose', 'print stack traces on errors')
    .configureOutput({ outputError: (str, write) => write(oneLineUsageError(str)) })
    // --wasm-threads, --db, --data also in each command's help (they apply to run, web, backends…)
    .configureHelp({ showGlobalOptions: true })
    // paths on the command line are the caller's (INIT_CWD under npm run): absolute before any command reads them
    .hook('preAction', (_program, actionCommand) => resolveCommandPaths(actionCommand))
    .exitOverride();
  registerRunCommand(program);
  registerRunsCommands(program);
  registerSweepCommands(program);
  registerExportCommands(program);
  registerDataCommands(program);
  registerDatasetsCommands(program);
  registerBackendsCommand(program);
  registerWebCommand(program);
  addHelpHints(program);
  return program;
}

/** commander's "error: …" as the CLI's other errors read, with a "Did you mean" suggestion on the same line. */
function oneLineUsageError(message: string): string {
  return message.replace(/^error: /, 'clusterbench: ').replace(/\n(?=\(Did you mean)/, ' ');
}

/** After a usage error every command prints where its options are listed, not its whole help. */
function addHelpHints(command: Command, path = command.name()): void {
  command.showHelpAfterError(`Run \`${path} --help\` for the options.`);
  for (const sub of command.commands) addHelpHints(sub, `${path} ${sub.name()}`);
}

function explain(err: unknown): string {
  // ParamErrors may come back from the engine worker as plain errors that keep their name and issues.
  const issues = (err as ParamError)?.issues;
  if ((err as Error)?.name === 'SweepPlanError') return (err as Error).message;
  if ((err as Error)?.name === 'ParamError' && issues) {
    const flag = (param: string) => (PARAM_NAMES.includes(param as ParamName) ? `--${paramFlag(param as ParamName)}` : param);
    return `Invalid parameters: ${issues.map((i) => (i.param ? `${flag(i.param)} ${i.message}` : i.message)).join('; ')}`;
  }
  return (err as Error)?.message ?? String(err);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (help, version or a usage error).
      return err.exitCode;
    }
    const verbose = argv.includes('--verbose');
    process.stderr.write(`clusterbench: ${explain(err)}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return (err as { name?: string })?.name === 'CancelledError' ? 130 : 1;
  }
}
