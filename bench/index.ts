export {};

// `npm run bench -- <name> [options]`: speed and quality figures, each against its reference in the same run.
const benches: Record<string, () => Promise<(args: string[]) => Promise<void>>> = {
  kmeans: async () => (await import('./kmeans')).benchKmeans,
  gmm: async () => (await import('./gmm')).benchGmm,
  ae: async () => (await import('./ae')).benchAe,
  n2d: async () => (await import('./n2d')).benchN2d,
};

const [benchName, ...args] = process.argv.slice(2);
const load = benchName ? benches[benchName] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
  process.exitCode = 2;
} else {
  await (await load())(args);
}
