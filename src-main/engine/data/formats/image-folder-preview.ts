/**
 * A quick look at an image folder before it is imported: its classes and how many images each holds (from the
 * listing: nothing opened), the sizes and colour of a sample, and a few thumbnails decoded as the read would decode
 * them. A preview tells images from other files by name (`.png`, `.jpg`, `.jpeg`, `.webp`); the read goes by
 * content. Problems with the layout, and broken images among those sampled, throw the same DataError as the read.
 */
import sharp from 'sharp';
import { throwIfAborted } from '../../abort';
import { MAX_IMAGE_SIDE } from '../dataset';
import { DataError } from '../errors';
import {
  chooseTarget,
  decodeImage,
  namedAsImage,
  probeImage,
  sizeCounts,
  SUPPORTED_FORMATS,
  type ImageHeader,
  type ImageTarget,
} from './image-file';
import { listImageFolder, type ListedFile } from './image-folder-scan';

/** Images sampled per class for the sizes and the colour, and over all classes at most. */
const SAMPLE_PER_CLASS = 16;
const MAX_SAMPLE = 256;
/** Thumbnails are shrunk (aspect ratio kept) to at most this many pixels on a side: enough for a dialog. */
export const MAX_THUMBNAIL_SIDE = 128;

export interface PreviewOptions {
  /** Thumbnails per class (an unlabelled folder gets 4 × this many); default 4. */
  perClass?: number;
  /** The size the images will be read at (default: the most common size among the sampled images). */
  size?: { height: number; width: number };
  /** The channels the images will be read with (default: 3 when a sampled image has colour, else 1). */
  channels?: 1 | 3;
  signal?: AbortSignal;
}

export interface FolderThumbnail {
  /** Index into `classNames`; absent for an unlabelled folder. */
  label?: number;
  /** The file's path inside the training folder (`cat/001.png`). */
  name: string;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Bytes 0..255, row-major, channels last. */
  pixels: Uint8Array;
}

export interface FolderPreview {
  path: string;
  /** The class folders' names in byte order (the labels' order); null when the folder is unlabelled. */
  classNames: string[] | null;
  /** Files named as images per class (one entry when unlabelled), in the training split and in `test/` when there is one (per training class). */
  trainCounts: number[];
  testCounts?: number[];
  /** Files not named as images (skipped by the read unless their content is an image), with the first few names. */
  otherFiles: { count: number; examples: string[] };
  /** The sizes of the sampled images, most common first, and how many images were sampled. */
  sizes: { height: number; width: number; count: number }[];
  sampled: number;
  /** What the read would use: `options.size`/`channels`, else the most common sampled size and 3 when a sampled image has colour. */
  size: { height: number; width: number };
  channels: 1 | 3;
  /** A few training images per class, decoded as the read decodes them, at `size` shrunk to MAX_THUMBNAIL_SIDE. */
  thumbnails: FolderThumbnail[];
}

/** Evenly spaced picks of `count` items out of `items` (all of them when there are fewer). */
function spread<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]);
}

/** `size` shrunk so that neither side exceeds MAX_THUMBNAIL_SIDE, the aspect ratio kept. */
function thumbnailSize(size: { height: number; width: number }): { height: number; width: number } {
  const scale = Math.min(1, MAX_THUMBNAIL_SIDE / Math.max(size.height, size.width));
  return { height: Math.max(1, Math.round(size.height * scale)), width: Math.max(1, Math.round(size.width * scale)) };
}

export async function previewImageFolder(path: string, options: PreviewOptions = {}): Promise<FolderPreview> {
  const perClass = options.perClass ?? 4;
  if (!Number.isInteger(perClass) || perClass < 0 || perClass > SAMPLE_PER_CLASS)
    throw new DataError(`perClass must be a whole number from 0 to ${SAMPLE_PER_CLASS}, got ${perClass}`);
  const side = (v: number): boolean => Number.isInteger(v) && v >= 1 && v <= MAX_IMAGE_SIDE;
  if (options.size && !(side(options.size.height) && side(options.size.width)))
    throw new DataError(
      `size must be whole numbers of pixels from 1 to ${MAX_IMAGE_SIDE}, got ${options.size.height}×${options.size.width}`,
    );

  const listing = await listImageFolder(path, undefined, options.signal);
  for (const group of listing.loose) {
    const image = group.files.find((f) => namedAsImage(f.display));
    if (image) throw new DataError(group.problem, image.display);
  }
  const imagesOf = (files: ListedFile[][]): ListedFile[][] => files.map((list) => list.filter((f) => namedAsImage(f.display)));
  const train = imagesOf(listing.train.files);
  const test = listing.test && imagesOf(listing.test.files);
  // The test split's counts per training class (its class folders are training classes, maybe not all of them).
  const testCounts =
    test && listing.train.classes
      ? listing.train.classes.map((name) => test[listing.test!.classes!.indexOf(name)]?.length ?? 0)
      : test?.map((l) => l.length);
  if (train.every((list) => list.length === 0)) throw new DataError(`has no files named as ${SUPPORTED_FORMATS} images`, listing.train.dir);

  const everyFile = [listing.train, ...(listing.test ? [listing.test] : [])].flatMap((s) => s.files.flat());
  const others = [...everyFile, ...listing.loose.flatMap((g) => g.files)].filter((f) => !namedAsImage(f.display));

  const labelled = listing.train.classes !== null;
  const perGroup = Math.max(perClass, Math.floor(MAX_SAMPLE / train.length), 1);
  const samples = train.map((list) => spread(list, Math.min(SAMPLE_PER_CLASS, perGroup)));
  const headers: { file: ListedFile; label: number; header: ImageHeader }[] = [];
  for (const [label, list] of samples.entries()) {
    for (const file of list) {
      throwIfAborted(options.signal);
      const header = await probeImage(file);
      if (header) headers.push({ file, label, header });
    }
  }
  if (headers.length === 0) throw new DataError(`has no ${SUPPORTED_FORMATS} images among those sampled`, listing.train.dir);

  const target = chooseTarget(
    options,
    headers.map((h) => h.header),
  );
  const thumbTarget: ImageTarget = { ...thumbnailSize(target), channels: target.channels };
  const thumbnails: FolderThumbnail[] = [];
  const wanted = labelled ? perClass : 4 * perClass;
  const perLabel = new Map<number, number>();
  for (const { file, label, header } of headers) {
    if ((perLabel.get(label) ?? 0) >= wanted) continue;
    perLabel.set(label, (perLabel.get(label) ?? 0) + 1);
    throwIfAborted(options.signal);
    // Decoded to the read's size first, then shrunk: the thumbnail shows what the read would give.
    const pixels = await decodeImage(file.path, header, target, file.display);
    const shrunk =
      thumbTarget.height === target.height && thumbTarget.width === target.width ? pixels : await shrink(pixels, target, thumbTarget);
    thumbnails.push({ ...(labelled ? { label } : {}), name: file.rel, ...thumbTarget, pixels: new Uint8Array(shrunk) });
  }

  return {
    path,
    classNames: listing.train.classes && [...listing.train.classes],
    trainCounts: train.map((list) => list.length),
    ...(testCounts ? { testCounts } : {}),
    otherFiles: { count: others.length, examples: others.slice(0, 5).map((f) => f.display) },
    sizes: sizeCounts(headers.map((h) => h.header)),
    sampled: headers.length,
    size: { height: target.height, width: target.width },
    channels: target.channels,
    thumbnails,
  };
}

async function shrink(pixels: Buffer, from: ImageTarget, to: ImageTarget): Promise<Buffer> {
  const image = sharp(pixels, { raw: { height: from.height, width: from.width, channels: from.channels } }).resize(to.width, to.height, {
    fit: 'fill',
  });
  // Raw output is sRGB unless asked for gray.
  return (to.channels === 1 ? image.grayscale() : image.toColourspace('srgb')).raw({ depth: 'uchar' }).toBuffer();
}
