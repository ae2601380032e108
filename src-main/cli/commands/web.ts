import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { numberArg } from '../args';
import { globals } from '../context';
import { startWebServer } from '../../web/server';

/** Opens a URL in the default browser, best effort. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => process.stderr.write(`clusterbench web: could not open a browser; open the URL above yourself\n`));
    child.unref();
  } catch {
    /* printed URL is enough */
  }
}

export function registerWebCommand(program: Command): void {
  program
    .command('web')
    .description('serve the app to a browser (built UI + the engine over a WebSocket), on 127.0.0.1 with a secret token')
    .option('--port <n>', 'port to listen on (0 = any free port)', numberArg, 8080)
    .option('--host <address>', 'address to listen on (default 127.0.0.1; anything else exposes the engine beyond this machine)')
    .option('--open', 'open the URL in the default browser')
    .addHelpText(
      'after',
      [
        '',
        'The printed URL carries a one-time secret token; every page, asset and WebSocket needs it.',
        'From another machine, tunnel instead of listening on a public address:',
        '  on gpu-box:   clusterbench web --port 8080',
        '  locally:      ssh -L 8080:127.0.0.1:8080 gpu-box',
        '  then open the printed http://127.0.0.1:8080/s/…/?token=… URL locally (same port number on both ends:',
        '  the server checks the Host header).',
        'Needs the built UI: run npm run build first.',
        '',
      ].join('\n'),
    )
    .action(async (opts: { port: number; host?: string; open?: boolean }, command: Command) => {
      if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
        throw new Error(`--port must be an integer from 0 to 65535, got ${opts.port}`);
      }
      const { db, data, wasmThreads } = globals(command);
      const server = await startWebServer({ port: opts.port, host: opts.host ?? '127.0.0.1', dbPath: db, dataDir: data, wasmThreads });
      process.stdout.write(`Clusterbench is served at\n\n  ${server.url}\n\nKeep the token secret. Ctrl+C stops the server.\n`);
      if (opts.open) openBrowser(server.url);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stderr.write('clusterbench web: shutting down\n');
          void server.close().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
