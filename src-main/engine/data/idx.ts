import { DataError } from './errors';

/** IDX magic numbers: 0x00000803 (unsigned bytes, 3 dimensions) and 0x00000801 (unsigned bytes, 1 dimension). */
export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;
export const IMAGE_HEIGHT = 28;
export const IMAGE_WIDTH = 28;
export const NUM_CLASSES = 10;

/** Raw (not yet normalised) images: `count × height × width` bytes in 0..255. */
export interface RawImages {
  pixels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

function u32(buf: Uint8Array, offset: number): number {
  return ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0;
}

function magicProblem(found: number, expected: number, what: string): string {
  const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
  let hint = '';
  if (found === IDX_LABELS_MAGIC && expected === IDX_IMAGES_MAGIC) hint = ' — this looks like a labels file';
  else if (found === IDX_IMAGES_MAGIC && expected === IDX_LABELS_MAGIC) hint = ' — this looks like an images file';
  return `wrong magic number ${found} (${hex(found)}), expected ${expected} (${hex(expected)}) for an IDX ${what} file${hint}`;
}

/** What both IDX files check first: not empty, a whole header, and the expected magic number. */
function checkHeader(buf: Uint8Array, file: string, headerBytes: number, magic: number, what: 'images' | 'labels'): void {
  if (buf.length === 0) throw new DataError('file is empty', file);
  if (buf.length < headerBytes) {
    throw new DataError(`truncated IDX ${what} file: ${buf.length} bytes, shorter than the ${headerBytes}-byte header`, file);
  }
  const found = u32(buf, 0);
  if (found !== magic) throw new DataError(magicProblem(found, magic, what), file);
}

/** No bytes after the `count` items (`expected` bytes with the header) that the header announces. */
function checkNoTrailingBytes(buf: Uint8Array, file: string, expected: number, count: number, what: 'images' | 'labels'): void {
  if (buf.length > expected) {
    throw new DataError(
      `IDX ${what} file has ${buf.length - expected} unexpected bytes after the ${count} ${what} the header announces`,
      file,
    );
  }
}

/**
 * Parses an IDX3 image file (already decompressed). Checks the magic number, the 28×28 size and the length;
 * the returned pixels are a view into `buf` (no copy).
 */
export function parseIdxImages(buf: Uint8Array, file: string): RawImages {
  checkHeader(buf, file, 16, IDX_IMAGES_MAGIC, 'images');
  const count = u32(buf, 4);
  const height = u32(buf, 8);
  const width = u32(buf, 12);
  if (height !== IMAGE_HEIGHT || width !== IMAGE_WIDTH) {
    throw new DataError(`wrong image size ${height}×${width}, expected ${IMAGE_HEIGHT}×${IMAGE_WIDTH}`, file);
  }
  const expected = 16 + count * height * width;
  if (buf.length < expected) {
    const whole = Math.floor((buf.length - 16) / (height * width));
    throw new DataError(
      `truncated IDX images file: the header announces ${count} images (${expected} bytes) but the file has ${buf.length} bytes (${whole} whole images)`,
      file,
    );
  }
  checkNoTrailingBytes(buf, file, expected, count, 'images');
  return { pixels: buf.subarray(16, expected), count, height, width };
}

/** Parses an IDX1 label file (already decompressed). Checks the magic number, the length and that labels are 0..9. */
export function parseIdxLabels(buf: Uint8Array, file: string): Uint8Array {
  checkHeader(buf, file, 8, IDX_LABELS_MAGIC, 'labels');
  const count = u32(buf, 4);
  const expected = 8 + count;
  if (buf.length < expected) {
    throw new DataError(`truncated IDX labels file: the header announces ${count} labels but the file holds ${buf.length - 8}`, file);
  }
  checkNoTrailingBytes(buf, file, expected, count, 'labels');
  const labels = buf.subarray(8, expected);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= NUM_CLASSES) {
      throw new DataError(`label ${labels[i]} of item ${i} is out of range (expected 0..${NUM_CLASSES - 1})`, file);
    }
  }
  return labels;
}
