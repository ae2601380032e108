#!/usr/bin/env node
// The installed `clusterbench` command: the CLI built to JavaScript by `npm run build` (out/main/cli.js).
// From a checkout, `npm run cli -- …` runs the TypeScript sources instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../out/main/cli.js', import.meta.url);
// Older Nodes crash loading the SQLite addon (better-sqlite3 13 supports Node 22 and newer): say so instead.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(`clusterbench: needs Node.js 22.13 or newer (this is ${process.version})\n`);
  process.exitCode = 1;
} else if (existsSync(fileURLToPath(cli))) {
  await import(cli.href);
} else {
  process.stderr.write(
    `clusterbench: the CLI is not built (${fileURLToPath(cli)} is missing): run npm run build in ${fileURLToPath(new URL('..', import.meta.url))}\n`,
  );
  process.exitCode = 1;
}
