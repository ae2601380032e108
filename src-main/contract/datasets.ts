/**
 * The contract's data set operations (`datasets.*`): their request schemas and response types, spread into the
 * contract by index.ts. Pure, like the rest of the contract: the renderer bundles it.
 */
import { z } from 'zod';
import { DATASET_FORMATS, MAX_IMAGE_SIDE, type DatasetFormat, type DatasetRecord } from '../engine/data/dataset';
import type { FolderPreview, FolderThumbnail } from '../engine/data/formats/image-folder-preview';

/** A name as a request carries it; whether it is a data set name is said by the service, in its own words. */
const name = z.string().min(1).max(200);
const path = z.string().min(1).max(4096);
const side = z.number().int().min(1).max(MAX_IMAGE_SIDE);
const channels = z.union([z.literal(1), z.literal(3)]);
/** The client's id for one add, so that it can follow its progress and cancel it (datasets.cancelAdd). */
const addId = z.string().min(1).max(100);

/** What `datasets add` and the import dialog ask for: the name, the path, and the options of its format. */
export const addDatasetRequest = z.object({
  name,
  path,
  /** Detected from the path when absent. */
  format: z.enum(DATASET_FORMATS).optional(),
  labels: path.optional(),
  test: path.optional(),
  testLabels: path.optional(),
  testFraction: z.number().gt(0).lt(1).optional(),
  size: z.object({ height: side, width: side }).optional(),
  channels: channels.optional(),
  labelColumn: z.enum(['first', 'none']).optional(),
  imageShape: z.object({ height: side, width: side, channels }).optional(),
  imagesOf: name.optional(),
});

export const datasetRequests = {
  /** The built-in data set first, then those added, by name. */
  'datasets.list': z.object({}),
  /** One data set, with how many runs recorded it. */
  'datasets.show': z.object({ name }),
  /** Reads the files completely and adds the data set; long: progress as datasets.addProgress, cancelled by datasets.cancelAdd. */
  'datasets.add': addDatasetRequest.extend({ addId: addId.optional() }),
  'datasets.cancelAdd': z.object({ addId }),
  /**
   * A light look at a path before adding it: its format and what its headers or first lines say; for an image folder,
   * its classes, sizes and a few thumbnails (read at `size` and `channels` when given, as the add would read them).
   */
  'datasets.preview': z.object({
    path,
    format: z.enum(DATASET_FORMATS).optional(),
    size: z.object({ height: side, width: side }).optional(),
    channels: channels.optional(),
  }),
  /** Removes a data set's record; the runs that used it keep what they recorded. */
  'datasets.remove': z.object({ name }),
} as const;

/** A data set in lists. */
export interface DatasetEntry {
  name: string;
  /** The built-in data set (Fashion-MNIST): no record in the history; its `record` is described from its files here. */
  builtIn: boolean;
  /**
   * Its record; null when the built-in one is not here or the stored row cannot be read (`problem` says why). The
   * built-in one's `sha256` is '' (computed when a run reads its files) and its `createdAt` ''.
   */
  record: DatasetRecord | null;
  problem?: string;
}

export interface DatasetDetail extends DatasetEntry {
  /** Runs of this history that recorded it. */
  runs: number;
}

/** What a light look at a path found, before anything is read in full. */
export interface DatasetPreview {
  /** The path, absolute. */
  path: string;
  format: DatasetFormat;
  /** What the look found, one line each ("4 IDX files: …", "header: label, pixel1, …"). */
  summary: string[];
  /** An image folder's own look (classes, image counts, sizes, thumbnails), when the path is one. */
  folder?: ImageFolderPreview;
}

/** An image folder before it is added: the folder reader's preview (formats/image-folder-preview.ts), its thumbnails as base64 for the wire. */
export type ImageFolderPreview = Omit<FolderPreview, 'path' | 'thumbnails'> & {
  thumbnails: (Omit<FolderThumbnail, 'pixels'> & { pixelsBase64: string })[];
};

export interface DatasetResponses {
  'datasets.list': DatasetEntry[];
  'datasets.show': DatasetDetail;
  'datasets.add': DatasetEntry;
  'datasets.cancelAdd': { cancelled: boolean };
  'datasets.preview': DatasetPreview;
  'datasets.remove': { name: string; runs: number };
}

export interface DatasetEvents {
  /** Files or bytes read of the total, while a data set is being added. */
  'datasets.addProgress': { addId: string | null; name: string; done: number; total: number };
}
