import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vulkanLoaderFound } from '../../src-main/engine/backend/vulkan-loader';
import { repoRoot, runCommand } from '../helpers/cli';

// Issue 22: Dawn writes "Couldn't load Vulkan" (and, for OpenGL adapters, "max…PerPipelineLayout artificially reduced")
// to stderr from native code on every adapter search; the web server's worker searched again for every run (21 runs,
// 21 warnings). Each run asks for the adapter as auto does, and lets WebGPU go after it: three runs in one process here.
describe('Dawn warnings', () => {
  it('are written at most once per process however many runs look for the adapter', async () => {
    const script = join(mkdtempSync(join(tmpdir(), 'cb-dawn-')), 'three-runs.mts');
    const webgpu = join(repoRoot, 'src-main/engine/backend/webgpu.ts');
    writeFileSync(
      script,
      [
        `import { releaseWebGPU, webgpuAdapterSummary } from ${JSON.stringify(webgpu)};`,
        `for (let run = 0; run < 3; run++) {`,
        `  const adapter = await webgpuAdapterSummary();`,
        `  process.stdout.write(\`run \${run}: \${adapter ? adapter.name : 'no adapter'}\\n\`);`,
        `  releaseWebGPU();`,
        `}`,
      ].join('\n'),
    );
    const out = await runCommand(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot });
    expect(out.code).toBe(0);
    const runs = out.stdout.trim().split('\n');
    expect(runs).toHaveLength(3);
    expect(new Set(runs.map((line) => line.replace(/^run \d+: /, ''))).size).toBe(1);
    const warnings = out.stderr.split('\n').filter((line) => /^Warning: /.test(line));
    expect(warnings.length, out.stderr).toBe(new Set(warnings).size);
    // without a Vulkan loader the search does not try Vulkan, so Dawn has nothing to say about it
    if (!vulkanLoaderFound()) expect(out.stderr).not.toMatch(/Couldn't load Vulkan/);
  });
});
