/**
 * The backend names, written once: `--backend`, the form's choices (schema/param-table.ts) and the engine all
 * read this list. Pure (no tfjs): the renderer bundles it through the parameter table.
 */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackendName = Exclude<BackendName, 'auto'>;

/** The backends that run code (auto only picks one of them), in the order probes and calibrations list them. */
export const CONCRETE_BACKENDS: readonly ConcreteBackendName[] = BACKEND_NAMES.filter(
  (name): name is ConcreteBackendName => name !== 'auto',
);
