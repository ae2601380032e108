import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

/** The contract between UI and engine, imported as `@contract` by the renderer and the preload. */
export const contractAlias = { '@contract': resolve(__dirname, 'src-main/contract') };

/** The renderer's library chunks (the highest priority that matches takes a module). */
const rendererChunkGroups = [
  { name: 'zrender', test: /node_modules[\\/]zrender[\\/]/, priority: 3 },
  { name: 'echarts', test: /node_modules[\\/]echarts[\\/]/, priority: 2 },
  { name: 'vendor', test: /node_modules[\\/]/, priority: 1 },
];

export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        // The engine worker is its own entry (out/main/engineWorker.js): EngineHost starts it next to the
        // bundled main (see defaultWorker in src-main/service/worker/host.ts). Its lazy import of the query
        // side becomes a chunk. The CLI (out/main/cli.js, the package's `bin`) shares those chunks and
        // imports nothing from electron.
        input: {
          index: resolve(__dirname, 'src-main/app/main.ts'),
          engineWorker: resolve(__dirname, 'src-main/service/worker/engine-worker.ts'),
          cli: resolve(__dirname, 'src-main/cli/bin.ts'),
        },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    resolve: { alias: contractAlias },
    // Sandboxed preload scripts must be CommonJS.
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    build: {
      minify: true,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-renderer/index.html') },
        // One 1,044 kB chunk made Vite warn on every build (> 500 kB). Libraries in their own chunks instead
        // (measured 2026-12, minified): echarts 461 kB (echarts/core + the 6 chart types of charts/echarts.ts),
        // zrender 196 kB, vendor (vue, pinia, zod…) 172 kB, the app 215 kB. All load at start, as before (the
        // app reads them from disk or localhost); the split only keeps each under the limit and the libraries
        // cacheable across app changes. A new warning means a chunk really grew: look before raising the limit.
        output: { codeSplitting: { groups: rendererChunkGroups } },
      },
    },
    resolve: { alias: contractAlias },
    plugins: [vue()],
  },
});
