// Image batches from the engine (base64 of count × height × width × channels bytes, channels last; 1 = grey,
// 3 = RGB) turned into canvas pixels. Every place that draws an image goes through imageDataOf / drawImage.

/** The shape of every image in a batch. `channels` absent: 1 (answers of older engines). */
export interface ImageShape {
  width: number;
  height: number;
  channels?: number;
}

/** Fashion-MNIST's 28×28 grey: the shape of runs recorded before data sets had one. */
export const DEFAULT_IMAGE_SHAPE: Readonly<Required<ImageShape>> = { width: 28, height: 28, channels: 1 };

/** 1 or 3; anything else the engine might send is read as grey rather than misdrawn. */
export const channelsOf = (shape: ImageShape): 1 | 3 => (shape.channels === 3 ? 3 : 1);

/** Bytes of one image of this shape. */
export const imageBytes = (shape: ImageShape): number => shape.width * shape.height * channelsOf(shape);

export function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Image `index` of a batch as RGBA (what ImageData holds): grey repeated on R, G and B, RGB copied, alpha opaque.
 * Bytes past the end of the batch read as 0 (black), so a short answer draws as black, never throws.
 */
export function rgbaOf(bytes: Uint8Array, index: number, shape: ImageShape): Uint8ClampedArray<ArrayBuffer> {
  const { width, height } = shape;
  const channels = channelsOf(shape);
  const pixels = width * height;
  const out = new Uint8ClampedArray(pixels * 4);
  const start = index * pixels * channels;
  for (let p = 0; p < pixels; p++) {
    const at = start + p * channels;
    const r = bytes[at] ?? 0;
    out[p * 4] = r;
    out[p * 4 + 1] = channels === 3 ? (bytes[at + 1] ?? 0) : r;
    out[p * 4 + 2] = channels === 3 ? (bytes[at + 2] ?? 0) : r;
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** Image `index` of a batch as ImageData, ready for putImageData. */
export function imageDataOf(bytes: Uint8Array, index: number, shape: ImageShape): ImageData {
  return new ImageData(rgbaOf(bytes, index, shape), shape.width, shape.height);
}

/** Draws image `index` of a batch onto a canvas at its natural size (CSS scales it). */
export function drawImage(canvas: HTMLCanvasElement, bytes: Uint8Array, index: number, shape: ImageShape): void {
  canvas.width = shape.width;
  canvas.height = shape.height;
  canvas.getContext('2d')?.putImageData(imageDataOf(bytes, index, shape), 0, 0);
}

/** Image `index` of a batch as a PNG data: URL (chart tooltips, which take HTML). */
export function imageUrl(bytes: Uint8Array, index: number, shape: ImageShape): string {
  const canvas = document.createElement('canvas');
  drawImage(canvas, bytes, index, shape);
  return canvas.toDataURL('image/png');
}

/**
 * How big an image is shown in a `box`-pixel square: its aspect ratio kept, the longer side `box`. Scaled up it
 * is drawn crisp (pixelated), scaled down smoothly.
 */
export function displaySize(shape: ImageShape, box: number): { width: number; height: number; pixelated: boolean } {
  const longer = Math.max(1, shape.width, shape.height);
  return {
    width: Math.max(1, Math.round((box * shape.width) / longer)),
    height: Math.max(1, Math.round((box * shape.height) / longer)),
    pixelated: box >= longer,
  };
}

/** The image shape of a run's data set as the run records it; null for a features data set (no images). */
type ShapeOfRun = { kind: string; width?: number; height?: number; channels?: number };

export function runImageShape(dataset: { shape?: ShapeOfRun; imagesOf?: { shape: ShapeOfRun } } | null | undefined): ImageShape | null {
  // a features data set shows the images its rows were computed from, when it names them
  const shape = dataset?.shape?.kind === 'features' && dataset.imagesOf ? dataset.imagesOf.shape : dataset?.shape;
  if (!shape) return DEFAULT_IMAGE_SHAPE;
  if (shape.kind !== 'images' || !shape.width || !shape.height) return null;
  return { width: shape.width, height: shape.height, channels: shape.channels };
}
