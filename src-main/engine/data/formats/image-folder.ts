/**
 * The image-folder format: a folder of PNG, JPEG and WebP images, decoded with sharp.
 *
 * Layout. `CLASS/*.png` (one folder per class) is labelled: the class names are the folder names in byte order (the
 * same in every locale), labels 0..C-1 in that order. Images directly in the folder, with no class folders, are
 * unlabelled. Optional `train/` and `test/` folders (each a folder of class folders, or flat) are the two splits;
 * `source.test` names another folder for the test split. The test split's classes must be training classes (mapped
 * by name). Rows come in a stable order: class folders, then files, each by name in byte order.
 *
 * Pixels. Every image becomes `size` (default: the most common size; a tie goes to the size with more pixels, then
 * the taller) by stretching (sharp's fit 'fill'): every output pixel then shows the image, whereas 'contain' would
 * add black bars whose width encodes each image's aspect ratio, a feature that clustering would pick up instead of
 * the content. Channels: `source.channels`, else 3 when any image is stored in colour (gray images then get r = g = b)
 * and 1 otherwise (WebP has no gray mode: a WebP image counts as colour). Transparency is flattened onto black. Values are bytes / 255 as float32, row-major, channels last.
 * EXIF orientation is applied.
 *
 * What is skipped and what is refused. Folders from real life hold other files (notes.txt, Thumbs.db, a README):
 * a file that is no image by its content (and has no image extension) is skipped, and the notes give their count
 * and first names. Hidden entries (`.…`, `__MACOSX`) are ignored; links leaving the folder, and folders inside class
 * folders, are skipped with a note. A broken image (unreadable, truncated, an image extension on other content, another
 * image format such as GIF) is refused with an error naming the file: skipping it would silently change the data
 * set. So are images beside class folders, an empty folder, an image over MAX_IMAGE_SIDE on a side and more than
 * MAX_ROWS files (both checked before anything is decoded).
 *
 * Content hash. Each image's bytes are hashed (SHA-256) as they are read; the data set's sha256 is the SHA-256 of,
 * per split (`train`, then `test` when there is one): the split's name and a NUL byte, then for every image in row
 * order its path inside the split's folder (`cat/001.png`, UTF-8), a NUL byte, and the 32-byte SHA-256 of its bytes.
 * Renaming a class folder or a file, or changing one byte of an image, changes it; skipped files do not.
 *
 * Work. Two passes over the images, each with a few files in flight at once: headers first (size, colour, alpha:
 * nothing decoded, so the shape is known before the output is allocated), then pixels, each image decoded straight
 * into the output array (no image's buffer outlives its decoding). Small plain PNGs are decoded without sharp
 * (png-fast.ts: bit for bit the same pixels, some 20 times faster); everything else by sharp. `options.signal` is
 * checked between files; `options.onProgress(done, total)` counts every file twice, once per pass.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { relative, sep } from 'node:path';
import { abortError, throwIfAborted } from '../../abort';
import { MAX_IMAGE_SIDE, type DataSplit, type DatasetSource, type FormatReader, type ReadData } from '../dataset';
import { DataError } from '../errors';
import {
  chooseTarget,
  decodeImage,
  probeImage,
  readImageBytes,
  rowBytes,
  SUPPORTED_FORMATS,
  type ImageHeader,
  type ImageTarget,
} from './image-file';
import { listImageFolder, type ListedFile, type ListedSplit } from './image-folder-scan';
import { decodeSimplePng } from './png-fast';

export { previewImageFolder, type FolderPreview, type FolderThumbnail, type PreviewOptions } from './image-folder-preview';

/** Files in flight at once: enough to keep libuv's thread pool (4 threads by default) busy with reads and decodes. */
const PARALLEL_FILES = Math.min(8, Math.max(4, availableParallelism()));

const TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

/** One file of a split, with its label (the index of its class among the training classes). */
interface Candidate {
  file: ListedFile;
  split: 0 | 1;
  label: number;
}

export const readImageFolder: FormatReader = async (source, options = {}) => {
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  checkFolderOptions(source);
  const listing = await listImageFolder(source.path, source.test, signal);
  const splits = listing.test ? [listing.train, listing.test] : [listing.train];
  const candidates = splits.flatMap((split, s) => candidatesOf(split, s as 0 | 1, listing.train.classes));
  const loose = listing.loose.flatMap((group) => group.files.map((file) => ({ file, problem: group.problem })));
  const total = 2 * (candidates.length + loose.length);
  let done = 0;
  const tick = (): void => onProgress?.(++done, total);

  // Pass 1: headers. Images beside class folders first: they make the folder's layout wrong whatever else it holds.
  await forEachBounded(loose.length, signal, async (i) => {
    if (await probeImage(loose[i].file)) throw new DataError(loose[i].problem, loose[i].file.display);
    tick();
  });
  const headers = new Array<ImageHeader | undefined>(candidates.length);
  await forEachBounded(candidates.length, signal, async (i) => {
    headers[i] = await probeImage(candidates[i].file);
    tick();
  });
  const images = candidates.flatMap((c, i) => (headers[i] ? [{ ...c, header: headers[i] }] : []));
  checkEveryFolderHasImages(splits, images, listing.train.classes);

  const target = chooseTarget(
    source,
    images.map((image) => image.header),
  );
  const outputs = splits.map((_, s) =>
    allocateSplit(images.filter((image) => image.split === s).length, target, listing.train.classes !== null),
  );
  const rows = new Int32Array(images.length);
  const rowCount = [0, 0];
  images.forEach((image, i) => (rows[i] = rowCount[image.split]++));

  // Pass 2: pixels, each image straight into its row; its digest kept for the content hash.
  done += loose.length + candidates.length - images.length; // the skipped files count as done
  const digests = new Uint8Array(images.length * 32);
  const size = rowBytes(target);
  await forEachBounded(images.length, signal, async (i) => {
    const image = images[i];
    const bytes = await readImageBytes(image.file);
    digests.set(createHash('sha256').update(bytes).digest(), i * 32);
    const pixels = decodeSimplePng(bytes, target) ?? (await decodeImage(bytes, image.header, target, image.file.display));
    const out = outputs[image.split];
    const offset = rows[i] * size;
    for (let k = 0; k < size; k++) out.values[offset + k] = TO_UNIT[pixels[k]];
    if (out.labels) out.labels[rows[i]] = image.label;
    tick();
  });

  const shortName = (display: string): string => (display.startsWith(source.path + sep) ? relative(source.path, display) : display);
  const skippedFiles = candidates.filter((_, i) => !headers[i]).map((c) => shortName(c.file.display));
  skippedFiles.push(...loose.map((l) => shortName(l.file.display)));
  const data: ReadData = {
    shape: { kind: 'images', ...target },
    train: outputs[0],
    ...(outputs[1] ? { test: outputs[1] } : {}),
    ...(listing.train.classes ? { classNames: [...listing.train.classes] } : {}),
    sha256: contentHash(images, digests),
    notes: [
      ...listNote(skippedFiles, (n) => `skipped ${n} ${plural(n, 'file')} that ${n === 1 ? 'is' : 'are'} not ${SUPPORTED_FORMATS} images`),
      ...listNote(
        listing.skippedFolders.map(shortName),
        (n) => `did not read ${n} ${plural(n, 'folder')} inside class folders (only one level of class folders is read)`,
      ),
      ...listNote(
        listing.skippedOther.map(shortName),
        (n) => `skipped ${n} ${plural(n, 'link')} leading out of the folder (or nowhere) or entries that are not files`,
      ),
      ...pixelNotes(
        images.map((image) => image.header),
        target,
        source,
      ),
    ],
  };
  return data;
};

function checkFolderOptions(source: DatasetSource): void {
  const side = (v: number): boolean => Number.isInteger(v) && v >= 1 && v <= MAX_IMAGE_SIDE;
  if (source.size && !(side(source.size.height) && side(source.size.width)))
    throw new DataError(`size must be whole numbers of pixels from 1 to ${MAX_IMAGE_SIDE}, got ${source.size.height}×${source.size.width}`);
  if (source.channels !== undefined && source.channels !== 1 && source.channels !== 3)
    throw new DataError(`channels must be 1 (grayscale) or 3 (colour), got ${String(source.channels)}`);
}

function candidatesOf(split: ListedSplit, s: 0 | 1, trainClasses: string[] | null): Candidate[] {
  const labelOf = new Map(trainClasses?.map((name, i) => [name, i]));
  return split.files.flatMap((files, c) => {
    const label = split.classes ? labelOf.get(split.classes[c])! : 0;
    return files.map((file) => ({ file, split: s, label }));
  });
}

/** An empty split, or a training class folder without images, is refused: it would leave a split or a label with no rows. */
function checkEveryFolderHasImages(splits: ListedSplit[], images: Candidate[], trainClasses: string[] | null): void {
  splits.forEach((split, s) => {
    const rows = images.filter((image) => image.split === s);
    if (rows.length === 0) throw new DataError(`has no ${SUPPORTED_FORMATS} images`, split.dir);
    if (s !== 0 || !trainClasses) return;
    const counts = new Int32Array(trainClasses.length);
    for (const image of rows) counts[image.label]++;
    const empty = counts.indexOf(0);
    if (empty >= 0) throw new DataError(`class folder has no ${SUPPORTED_FORMATS} images`, `${split.dir}${sep}${trainClasses[empty]}`);
  });
}

function allocateSplit(count: number, target: ImageTarget, labelled: boolean): DataSplit {
  const length = count * rowBytes(target);
  let values: Float32Array;
  try {
    values = new Float32Array(length);
  } catch (err) {
    throw new DataError(
      `${count} images of ${target.height}×${target.width}×${target.channels} are too many values (${length}) to hold in memory`,
      undefined,
      {
        cause: err,
      },
    );
  }
  return { values, count, ...(labelled ? { labels: new Uint8Array(count) } : {}) };
}

function contentHash(images: Candidate[], digests: Uint8Array): string {
  const hash = createHash('sha256');
  images.forEach((image, i) => {
    if (i === 0 || images[i - 1].split !== image.split) hash.update(image.split === 0 ? 'train\0' : 'test\0');
    hash
      .update(image.file.rel, 'utf8')
      .update('\0')
      .update(digests.subarray(i * 32, i * 32 + 32));
  });
  return hash.digest('hex');
}

const plural = (n: number, word: string): string => (n === 1 ? word : `${word}s`);

/** One note naming the first few of `names` ("…: a.txt, b.md, c (and 9 more)"), or none for an empty list. */
function listNote(names: string[], head: (count: number) => string): string[] {
  if (names.length === 0) return [];
  const more = names.length > 3 ? ` (and ${names.length - 3} more)` : '';
  return [`${head(names.length)}: ${names.slice(0, 3).join(', ')}${more}`];
}

function pixelNotes(headers: ImageHeader[], target: ImageTarget, source: DatasetSource): string[] {
  const notes: string[] = [];
  const size = `${target.height}×${target.width}`;
  const resized = headers.filter((h) => h.height !== target.height || h.width !== target.width).length;
  if (resized > 0) {
    const why = source.size ? 'the size asked for' : `the most common size, ${headers.length - resized} of ${headers.length} images`;
    notes.push(
      `resized ${resized} ${plural(resized, 'image')} of other sizes to ${size} (${why}; stretched to fill, the aspect ratio not kept)`,
    );
  }
  const colour = headers.filter((h) => h.colour).length;
  if (target.channels === 3 && colour < headers.length) {
    const gray = headers.length - colour;
    const why = source.channels ? 'colour was asked for' : `${colour} ${plural(colour, 'image')} ${colour === 1 ? 'has' : 'have'} colour`;
    notes.push(`converted ${gray} grayscale ${plural(gray, 'image')} to colour (r = g = b): ${why}`);
  } else if (target.channels === 1 && colour > 0) {
    notes.push(`converted ${colour} colour ${plural(colour, 'image')} to grayscale: grayscale was asked for`);
  }
  const alpha = headers.filter((h) => h.alpha).length;
  if (alpha > 0) notes.push(`flattened ${alpha} ${plural(alpha, 'image')} with transparency onto black`);
  return notes;
}

/**
 * Runs `work(0)` … `work(count − 1)` with PARALLEL_FILES in flight, in index order. After a failure no new index
 * starts; the ones in flight finish, and the error of the lowest failing index is thrown (the same file every run,
 * whichever finished first). An abort throws the signal's AbortError.
 */
async function forEachBounded(count: number, signal: AbortSignal | undefined, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const state: { failed?: { index: number; error: unknown } } = {};
  // A function, not the field: TypeScript would keep the loop condition's narrowing across the await.
  const failedAt = (): number => state.failed?.index ?? Infinity;
  const worker = async (): Promise<void> => {
    while (!state.failed && next < count && !signal?.aborted) {
      const index = next++;
      try {
        await work(index);
      } catch (error) {
        if (index < failedAt()) state.failed = { index, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, count) }, worker));
  if (signal?.aborted) throw abortError(signal);
  if (state.failed) throw state.failed.error;
}
