/** A dense row-major float32 matrix: `rows` samples × `cols` features. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Images without their labels: all that the fitting stages of a run see (the labels only reach the evaluation). */
export interface Images {
  /** count × height × width × channels values in [0, 1], row-major, channels last. */
  images: Float32Array;
  count: number;
  height: number;
  width: number;
  /** Values per pixel: 1 (grey) or 3 (RGB); absent means 1. */
  channels?: number;
}

/** Values per image: height × width × channels. */
export function valuesPerImage(set: Pick<Images, 'height' | 'width' | 'channels'>): number {
  return set.height * set.width * (set.channels ?? 1);
}

/** Images of one split with their labels, pixels already normalised to [0, 1]. */
export interface ImageSet extends Images {
  labels: Uint8Array;
}

/** The images of a split as a new object that has no labels at all (not merely typed without them). */
export function withoutLabels(set: Images): Images {
  const images: Images = { images: set.images, count: set.count, height: set.height, width: set.width };
  if (set.channels !== undefined) images.channels = set.channels;
  return images;
}

/** Progress callback used by long engine operations (fit, training). */
export type ProgressFn = (event: ProgressEvent) => void;

export interface ProgressEvent {
  phase: string;
  /** 0..1 when known. */
  fraction?: number;
  message?: string;
  [key: string]: unknown;
}

export function imagesAsMatrix(set: Images): Matrix {
  return { data: set.images, rows: set.count, cols: valuesPerImage(set) };
}
