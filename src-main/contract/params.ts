/**
 * The experiment parameter schema (one description per parameter: src-main/engine/experiments/paramTable.ts),
 * shared with the UI, which builds its form, defaults, presets and validation from it. Pure zod: it bundles
 * into the renderer.
 */
export * from '../engine/experiments/params';
