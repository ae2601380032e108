/**
 * The experiment parameter schema (one description per parameter: src-main/engine/schema/param-table.ts),
 * shared with the UI, which builds its form, defaults, presets and validation from it. Pure zod: it bundles
 * into the renderer.
 */
export * from '../engine/schema/params';
