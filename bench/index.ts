export {};

// `npm run bench -- <name> [options]`: speed and quality figures, each against its reference in the same run.
const benches: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  kmeans: async () => (await import('./kmeans')).benchKmeans,
  gmm: async () => (await import('./gmm')).benchGmm,
  ae: async () => (await import('./ae')).benchAe,
  n2d: async () => (await import('./n2d')).benchN2d,
  'n2d-aug': async () => {
    const { benchN2d } = await import('./n2d');
    return (args) => benchN2d(['--task', 'n2d-aug', ...args]);
  },
  'n2d-codes': async () => (await import('./n2d-codes')).benchN2dCodes,
  'image-folder': async () => (await import('./image-folder')).benchImageFolder,
  silhouette: async () => (await import('./silhouette')).benchSilhouette,
};

const [benchName, ...args] = process.argv.slice(2);
const load = benchName ? benches[benchName] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
  process.exitCode = 2;
} else {
  try {
    await (
      await load()
    )(args);
  } catch (error) {
    // One clear line, not a stack trace through tfjs-wasm's minified module (its exception handler rethrows).
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.CLUSTERBENCH_VERBOSE && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}
