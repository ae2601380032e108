/**
 * One image file of a folder: what it is by its first bytes (PNG, JPEG or WebP; another image format; no image at
 * all), its size and colour from its header (sharp's metadata: nothing decoded), and its pixels decoded to the data
 * set's shape. A file is an image by its content; the name's extension only decides what a file that is no image
 * at all was meant to be (`x.png` holding text is a broken image, `notes.txt` is simply not an image).
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { MAX_IMAGE_SIDE, type DatasetSource } from '../dataset';
import { DataError } from '../errors';
import { FAST_PNG_MAX_BYTES, simplePngHeader } from './png-fast';

export const SUPPORTED_FORMATS = 'PNG, JPEG or WebP';

/** The largest image file read (a 1024×1024 RGBA PNG stored without compression has about 4 MiB): larger is refused unread. */
export const MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024;

/** Extensions of the formats read, and of other image formats (a file with one of these is refused, not skipped). */
const READ_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'jpe', 'jfif', 'webp']);
const OTHER_IMAGE_EXTENSIONS = new Set(['gif', 'tif', 'tiff', 'bmp', 'heic', 'heif', 'avif', 'svg', 'ico', 'jp2', 'jxl', 'psd', 'tga']);

const extension = (path: string): string => {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
};

/** Whether a file's name says it is a PNG, JPEG or WebP image (what a listing can tell without opening it). */
export const namedAsImage = (name: string): boolean => READ_EXTENSIONS.has(extension(name));

/** How many bytes {@link sniffFormat} looks at. */
export const SNIFF_BYTES = 32;

const startsWith = (head: Uint8Array, bytes: number[], at = 0): boolean => bytes.every((b, i) => head[at + i] === b);
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

/** The format a file's first bytes announce: one that is read, the name of another image format, or null (no image). */
export function sniffFormat(head: Uint8Array): 'png' | 'jpeg' | 'webp' | { other: string } | null {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(head, ascii('GIF8'))) return { other: 'GIF' };
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return { other: 'TIFF' };
  if (startsWith(head, [0xff, 0x0a]) || startsWith(head, [0, 0, 0, 0x0c, ...ascii('JXL ')])) return { other: 'JPEG XL' };
  if (startsWith(head, ascii('ftyp'), 4)) {
    const brand = String.fromCharCode(...head.subarray(8, 12));
    if (HEIF_BRANDS.has(brand)) return { other: brand.startsWith('avi') ? 'AVIF' : 'HEIF' };
  }
  return null;
}

/** What a file's header says, before anything is decoded. */
export interface ImageHeader {
  /** After the EXIF orientation is applied (as decoding applies it). */
  height: number;
  width: number;
  /** Stored as colour (RGB, CMYK, a palette): true even when its pixels happen to be gray. */
  colour: boolean;
  alpha: boolean;
}

export interface ImageFileRef {
  /** Where to read it. */
  path: string;
  /** How messages name it. */
  display: string;
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();

function fsProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file not found (was it removed while the folder was read?)';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read the file (permission denied)';
  return `cannot read the file (${firstLine(err)})`;
}

/**
 * The file's header when it is a PNG, JPEG or WebP image; undefined when it is no image (to be skipped). Throws a
 * DataError naming the file for a broken image (empty, unreadable header, an image extension on other content),
 * another image format, a file over MAX_IMAGE_FILE_BYTES, or an image larger than MAX_IMAGE_SIDE on a side.
 */
export async function probeImage(file: ImageFileRef): Promise<ImageHeader | undefined> {
  let size: number;
  let head: Uint8Array;
  try {
    const handle = await open(file.path, 'r');
    try {
      size = (await handle.stat()).size;
      // A small file is read whole: a simple PNG's header then needs no sharp (png-fast.ts).
      head = new Uint8Array(size <= FAST_PNG_MAX_BYTES ? size : SNIFF_BYTES);
      head = head.subarray(0, (await handle.read(head, 0, head.length, 0)).bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new DataError(fsProblem(err), file.display, { cause: err });
  }

  const format = sniffFormat(head);
  const ext = extension(file.display);
  if (format === null) {
    if (READ_EXTENSIONS.has(ext)) {
      throw new DataError(size === 0 ? 'image file is empty' : `is named .${ext} but is not a ${SUPPORTED_FORMATS} image`, file.display);
    }
    if (OTHER_IMAGE_EXTENSIONS.has(ext)) throw new DataError(unsupported(`.${ext} image`), file.display);
    return undefined;
  }
  if (typeof format === 'object') throw new DataError(unsupported(`${format.other} image`), file.display);
  if (size > MAX_IMAGE_FILE_BYTES)
    throw new DataError(`has ${size} bytes, more than the ${MAX_IMAGE_FILE_BYTES} an image file may have`, file.display);

  const header = (format === 'png' && simplePngHeader(head)) || (await sharpHeader(file));
  if (header.height > MAX_IMAGE_SIDE || header.width > MAX_IMAGE_SIDE) {
    throw new DataError(
      `is ${header.height}×${header.width} pixels, larger than ${MAX_IMAGE_SIDE} on a side: make the images smaller first`,
      file.display,
    );
  }
  return header;
}

async function sharpHeader(file: ImageFileRef): Promise<ImageHeader> {
  let meta: Metadata;
  try {
    meta = await sharp(file.path).metadata();
  } catch (err) {
    throw new DataError(`cannot read the image: ${firstLine(err)}`, file.display, { cause: err });
  }
  const { height, width } = meta.autoOrient;
  return { height, width, colour: meta.channels - (meta.hasAlpha ? 1 : 0) >= 3, alpha: meta.hasAlpha };
}

const unsupported = (what: string): string =>
  `is a ${what}: only ${SUPPORTED_FORMATS} images are read (convert it, or move it out of the folder)`;

/** The whole file, refused unread when it has grown past MAX_IMAGE_FILE_BYTES. */
export async function readImageBytes(file: ImageFileRef): Promise<Buffer> {
  try {
    const handle = await open(file.path, 'r');
    try {
      const size = (await handle.stat()).size;
      if (size > MAX_IMAGE_FILE_BYTES)
        throw new DataError(`has ${size} bytes, more than the ${MAX_IMAGE_FILE_BYTES} an image file may have`, file.display);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(fsProblem(err), file.display, { cause: err });
  }
}

/** The shape every image of a data set is decoded to. */
export interface ImageTarget {
  height: number;
  width: number;
  channels: 1 | 3;
}

/**
 * Decodes an image (its bytes, or a path) to `target`: EXIF orientation applied, transparency flattened onto black,
 * stretched to the target size when `header` says it has another (fit 'fill'), converted to gray or sRGB; one byte
 * per value, row-major, channels last. Throws a DataError naming the file for a broken or truncated image, and
 * when what was decoded no longer matches `header` (the file changed since it was probed).
 */
export async function decodeImage(input: Buffer | string, header: ImageHeader, target: ImageTarget, display: string): Promise<Buffer> {
  let image = sharp(input, { failOn: 'error', limitInputPixels: MAX_IMAGE_SIDE * MAX_IMAGE_SIDE, autoOrient: true }).flatten({
    background: '#000000',
  });
  if (header.height !== target.height || header.width !== target.width) image = image.resize(target.width, target.height, { fit: 'fill' });
  image = target.channels === 1 ? image.grayscale() : image.toColourspace('srgb');
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new DataError(`cannot decode the image (broken or truncated?): ${firstLine(err)}`, display, { cause: err });
  }
  const { info, data } = decoded;
  if (
    info.height !== target.height ||
    info.width !== target.width ||
    info.channels !== target.channels ||
    data.length !== rowBytes(target)
  ) {
    throw new DataError('changed while the folder was read (its size or channels differ from a moment before): read it again', display);
  }
  return data;
}

export const rowBytes = (target: ImageTarget): number => target.height * target.width * target.channels;

/** The most common size (ties: more pixels, then taller); the channels asked for, else 3 when any image has colour. */
export function chooseTarget(source: Pick<DatasetSource, 'size' | 'channels'>, headers: ImageHeader[]): ImageTarget {
  const channels = source.channels ?? (headers.some((h) => h.colour) ? 3 : 1);
  if (source.size) return { height: source.size.height, width: source.size.width, channels };
  const [size] = sizeCounts(headers);
  return { height: size.height, width: size.width, channels };
}

/** The sizes seen, most common first (ties: more pixels, then taller). */
export function sizeCounts(headers: Pick<ImageHeader, 'height' | 'width'>[]): { height: number; width: number; count: number }[] {
  const counts = new Map<number, number>();
  for (const h of headers) counts.set(h.height * 4096 + h.width, (counts.get(h.height * 4096 + h.width) ?? 0) + 1);
  return [...counts]
    .map(([key, count]) => ({ height: Math.floor(key / 4096), width: key % 4096, count }))
    .sort((a, b) => b.count - a.count || b.height * b.width - a.height * a.width || b.height - a.height);
}
