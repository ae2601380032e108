// What a data set changes in an experiment, in words for New experiment, derived from its shape, labels and splits:
// which encoders can take it, how the conv autoencoder adapts, what the scores are.
import { shapeText, type ShapeLike } from './datasets';
import { int } from './format';

/** The smallest image side the conv autoencoder takes (three 2× poolings: engine/models/conv-input.ts). */
export const MIN_CONV_SIDE = 8;

/** What New experiment needs to know of the chosen data set. */
export interface DatasetFacts {
  name: string;
  shape: ShapeLike;
  labelled: boolean;
  counts: { train: number; test: number | null };
}

/** The tasks that train the study's conv autoencoder, and the pipeline's conv encoder. */
const CONV_TASKS = new Set(['ae-kmeans', 'ae-gmm']);

/** Why the conv autoencoder cannot take this data set (features, or images under 8×8), or null when it can. */
export function convBlocked(shape: ShapeLike): string | null {
  if (shape.kind === 'features') return `${shapeText(shape)} holds feature rows, not images: the conv autoencoder needs images`;
  if (shape.height < MIN_CONV_SIDE || shape.width < MIN_CONV_SIDE)
    return `${shapeText(shape)} is smaller than the conv autoencoder's ${MIN_CONV_SIDE}×${MIN_CONV_SIDE}`;
  return null;
}

const isStudyShape = (shape: ShapeLike): boolean =>
  shape.kind === 'images' && shape.height === 28 && shape.width === 28 && shape.channels === 1;

const valuesOf = (shape: ShapeLike): number => (shape.kind === 'images' ? shape.height * shape.width * shape.channels : shape.dim);

/** Whether the experiment trains the conv autoencoder, a dense one, or none (works on the rows as they are). */
function encoderOf(task: string, encoder: string | undefined): 'conv' | 'dense' | 'none' {
  if (CONV_TASKS.has(task)) return 'conv';
  if (task === 'kmeans') return 'none';
  return encoder === 'conv' ? 'conv' : encoder === 'none' ? 'none' : 'dense';
}

/**
 * One line per thing the data set changes for this experiment, e.g. "features d=128: the encoder is skipped …",
 * "32×32×3: the conv autoencoder adapts its shape (not the study's exact network)", "no labels: …". Empty for
 * Fashion-MNIST with the study's network.
 */
export function datasetNotes(facts: DatasetFacts, task: string, encoder?: string): string[] {
  const { shape } = facts;
  const notes: string[] = [];
  const which = encoderOf(task, encoder);
  const values = int(valuesOf(shape));
  const what = shape.kind === 'features' ? `${values} feature values` : `${values} pixel values`;
  if (which === 'conv') {
    const blocked = convBlocked(shape);
    if (blocked) notes.push(`${blocked}: pick k-means, or a pipeline with the dense encoder or none.`);
    else if (!isStudyShape(shape))
      notes.push(`${shapeText(shape)}: the conv autoencoder adapts its shape (not the study's exact network, which is for 28×28×1).`);
  } else if (which === 'dense') {
    notes.push(`${shapeText(shape)}: the dense autoencoder takes the ${what} of each row.`);
  } else if (shape.kind === 'features') {
    notes.push(
      `${shapeText(shape)}: the encoder is skipped; ${task === 'kmeans' ? 'k-means works' : 'UMAP and the clusterer work'} on the ${what}.`,
    );
  } else if (!isStudyShape(shape)) {
    notes.push(`${shapeText(shape)}: ${task === 'kmeans' ? 'k-means works' : 'UMAP and the clusterer work'} on the ${what} of each image.`);
  }
  if (!facts.labelled)
    notes.push('No labels: runs get label-free scores (silhouette, Calinski–Harabasz, Davies–Bouldin), no accuracy or confusion matrix.');
  if (facts.counts.test === null) notes.push(`One split: runs fit on and score the same ${int(facts.counts.train)} rows.`);
  return notes;
}
