import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The per-user folder for Clusterbench's database, downloaded data and run artifacts. The same folder is
 * used by the CLI and the desktop app. `CLUSTERBENCH_HOME` overrides it (tests, portable installs).
 */
export function appDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CLUSTERBENCH_HOME) return env.CLUSTERBENCH_HOME;
  const home = homedir();
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Clusterbench');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Clusterbench');
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'clusterbench');
}

export const defaultDbPath = (env?: NodeJS.ProcessEnv): string => join(appDataDir(env), 'runs.sqlite');
export const defaultDataDir = (env?: NodeJS.ProcessEnv): string => join(appDataDir(env), 'data', 'fashion-mnist');
