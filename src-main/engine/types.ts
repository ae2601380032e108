/** A dense row-major float32 matrix: `rows` samples × `cols` features. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Images of one split, pixels already normalised to [0, 1]. */
export interface ImageSet {
  /** count × height × width values in [0, 1], row-major. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
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

export function imagesAsMatrix(set: ImageSet): Matrix {
  return { data: set.images, rows: set.count, cols: set.height * set.width };
}
