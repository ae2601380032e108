// Data sets as the screens write them: a shape (28×28×1, d=128), a short content hash, and a run's data set in
// one line ("fashion-mnist · 3f2a9c1 · 28×28×1").

/** A data set's shape as the engine records it (engine/data/dataset.ts: DatasetShape). */
export type ShapeLike = { kind: 'images'; height: number; width: number; channels: number } | { kind: 'features'; dim: number };

/** The built-in data set: what a run uses when it names none. */
export const DEFAULT_DATASET = 'fashion-mnist';

/** Fashion-MNIST's shape: what runs recorded before data sets had shapes used. */
export const FASHION_MNIST_SHAPE: ShapeLike = { kind: 'images', height: 28, width: 28, channels: 1 };

/** `28×28×1`, `32×32×3`, `d=128`: as the CLI writes a shape. */
export function shapeText(shape: ShapeLike | null | undefined): string {
  if (!shape) return '—';
  return shape.kind === 'images' ? `${shape.height}×${shape.width}×${shape.channels}` : `d=${shape.dim}`;
}

/** The first 7 hex digits of a content hash, as git shortens a commit. */
export const shortSha = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '—');

/** A run's data set in one line: name, short hash, shape (older runs: Fashion-MNIST's shape). */
export function datasetText(dataset: { name: string; sha256?: string; shape?: ShapeLike } | null | undefined): string {
  if (!dataset) return '—';
  return [dataset.name, dataset.sha256 ? shortSha(dataset.sha256) : null, shapeText(dataset.shape ?? FASHION_MNIST_SHAPE)]
    .filter(Boolean)
    .join(' · ');
}

/** The data set a run's parameters name (the `dataset` parameter), the built-in one when they name none. */
export const datasetParam = (params: Record<string, unknown>): string =>
  typeof params.dataset === 'string' && params.dataset ? params.dataset : DEFAULT_DATASET;

/** What a run summary may say of its data set (older engines: nothing but the `dataset` parameter). */
interface SummaryDatasetFields {
  params: Record<string, unknown>;
  dataset?: { name?: string; sha256?: string; shape?: ShapeLike | string | null; labelled?: boolean } | null;
}

/** A run's data set in the runs list: its name, "3f2a9c1 · 28×28×1 · unlabelled" as far as known, and all of it for a tooltip. */
export function summaryDataset(run: SummaryDatasetFields): { name: string; detail: string; title: string } {
  const own = run.dataset ?? null;
  const name = own?.name ?? datasetParam(run.params);
  const shape = typeof own?.shape === 'string' ? own.shape : own?.shape ? shapeText(own.shape) : null;
  const parts = [own?.sha256 ? shortSha(own.sha256) : null, shape, own?.labelled === false ? 'unlabelled' : null].filter(Boolean);
  return {
    name,
    detail: parts.join(' · '),
    title: [name, own?.sha256 ? `sha256 ${own.sha256}` : null, shape, own?.labelled === false ? 'no labels' : null]
      .filter(Boolean)
      .join('\n'),
  };
}

/** A data set's name as the engine takes it (engine/data/dataset.ts: DATASET_NAME_PATTERN); the engine says the rest. */
export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The containers a data set can be read from, as the import dialog names them. */
export const FORMAT_LABELS = {
  folder: 'Image folder (PNG, JPEG…; class subfolders = labels)',
  idx: 'IDX files (MNIST style, gzipped or not)',
  csv: 'CSV (one row per image or feature vector)',
  npy: 'NumPy .npy',
  npz: 'NumPy .npz',
} as const;
export type ImportFormat = keyof typeof FORMAT_LABELS;

/** A name for a data set from its path: the file or folder name without extensions, in the characters a name takes. */
export function nameFromPath(path: string): string {
  const base =
    path
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? '';
  const stem = base.replace(/(\.(gz|csv|tsv|npy|npz|idx\d?|ubyte))+$/i, '');
  const cleaned = stem
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return DATASET_NAME.test(cleaned) ? cleaned : '';
}

/** "32x32" or "32×32" (height × width) → sizes; "28x28x1" with `channels` → also the channels (1 or 3). */
export function parseSize(text: string, withChannels: boolean): { height: number; width: number; channels?: 1 | 3 } | string {
  const parts = text
    .trim()
    .split(/\s*[x×*]\s*/i)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  const want = withChannels ? 3 : 2;
  const example = withChannels ? '28x28x1' : '32x32';
  if (parts.length !== want || parts.some((n) => !Number.isInteger(n)))
    return `write it as ${withChannels ? 'height × width × channels' : 'height × width'}, e.g. ${example}`;
  const [height, width, channels] = parts;
  if (height < 1 || width < 1 || height > 1024 || width > 1024) return 'each side from 1 to 1024 pixels';
  if (!withChannels) return { height, width };
  if (channels !== 1 && channels !== 3) return 'channels: 1 (grey) or 3 (RGB)';
  return { height, width, channels };
}
