import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

/** The contract between UI and engine, imported as `@contract` by the renderer and the preload. */
export const contractAlias = { '@contract': resolve(__dirname, 'src-main/contract') };

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
    build: { minify: true, rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } } },
    resolve: { alias: contractAlias },
    plugins: [vue()],
  },
});
