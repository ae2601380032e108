/**
 * The data sets `clusterbench data download NAME` knows: where their official files are, and the checksum and size
 * each file must have. Every checksum here was copied from a public source named next to it; a set whose checksums
 * could not be found is not listed. All of them are IDX folders of four files that `datasets add NAME DIR --format
 * idx` reads.
 */
import { join } from 'node:path';
import { appDataDir } from '../paths';
import { DATASET_NAME_PATTERN } from './dataset';
import { DataError } from './errors';
import { FASHION_MNIST_BYTES, FASHION_MNIST_CLASSES, FASHION_MNIST_SHA256 } from './fashion-mnist';
import { IDX_FILES } from './locate';

/**
 * What a file's `sha256` and `bytes` describe: the `.gz` file exactly as the mirrors serve it (`compressed`), or what
 * it decompresses to (`decompressed`: any gzip of the same content verifies, e.g. a distribution's re-compressed copy).
 */
export type ChecksumOf = 'compressed' | 'decompressed';

/** The four files of an IDX data set, as {@link IDX_FILES} names them. */
export type IdxRole = keyof typeof IDX_FILES;
export const IDX_ROLES = Object.keys(IDX_FILES) as IdxRole[];

export interface CatalogFile {
  role: IdxRole;
  /** The name on the mirrors and on disk, e.g. `train-images-idx3-ubyte.gz`. */
  name: string;
  checksumOf: ChecksumOf;
  /** SHA-256 (64 lowercase hex digits) of what {@link checksumOf} says. */
  sha256: string;
  /** Size in bytes of what {@link checksumOf} says. */
  bytes: number;
}

export interface CatalogEntry {
  /** The name to download it by, and the folder it lands in (a {@link DATASET_NAME_PATTERN} word). */
  name: string;
  /** How messages write it, e.g. `Fashion-MNIST`. */
  title: string;
  description: string;
  homepage: string;
  /** Base URLs (ending in `/`), tried in order for each file until one delivers it verified. */
  mirrors: readonly string[];
  /** The four IDX files, in the order they are downloaded. */
  files: readonly CatalogFile[];
  /** One name per label 0..C-1. */
  classNames: readonly string[];
  shape: { height: number; width: number; channels: 1 };
  counts: { train: number; test: number };
  /** Who to credit, as the authors ask. */
  citation: string;
  licence: string;
  /** About how many bytes a download is, for sets whose checksums are of the decompressed content. */
  approxDownloadBytes?: number;
}

/**
 * Zalando Research's bucket, over HTTPS: its website endpoint (the http://fashion-mnist.s3-website… address in
 * their README) serves plain HTTP only; the bucket's REST endpoint serves the same files with TLS.
 */
export const FASHION_MNIST_BASE_URL = 'https://fashion-mnist.s3.eu-central-1.amazonaws.com/';
/**
 * Tried in order for each file until one delivers it: HTTPS first, then the address in Zalando's README (plain
 * HTTP; the SHA-256 check still guards the content). Not verified from the build machines, which have no network.
 */
export const FASHION_MNIST_MIRRORS: readonly string[] = [
  FASHION_MNIST_BASE_URL,
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
];

/** The IDX files' names, gzipped, in download order (train images, train labels, test images, test labels). */
const GZ_NAMES: Record<IdxRole, string> = {
  trainImages: `${IDX_FILES.trainImages}.gz`,
  trainLabels: `${IDX_FILES.trainLabels}.gz`,
  testImages: `${IDX_FILES.testImages}.gz`,
  testLabels: `${IDX_FILES.testLabels}.gz`,
};

/** The four files of a set whose checksums are of the `.gz` files as served: [sha256, bytes] per role. */
function compressedFiles(sums: Record<IdxRole, [string, number]>): CatalogFile[] {
  return IDX_ROLES.map((role) => ({ role, name: GZ_NAMES[role], checksumOf: 'compressed', sha256: sums[role][0], bytes: sums[role][1] }));
}

const FASHION_MNIST: CatalogEntry = {
  name: 'fashion-mnist',
  title: 'Fashion-MNIST',
  description: "Zalando's article images: 10 kinds of clothing, shoes and bags",
  homepage: 'https://github.com/zalandoresearch/fashion-mnist',
  mirrors: FASHION_MNIST_MIRRORS,
  // Checksums of the DECOMPRESSED content (fashion-mnist.ts), so that Debian's re-compressed copy verifies as well.
  files: IDX_ROLES.map((role) => ({
    role,
    name: GZ_NAMES[role],
    checksumOf: 'decompressed',
    sha256: FASHION_MNIST_SHA256[IDX_FILES[role]],
    bytes: FASHION_MNIST_BYTES[IDX_FILES[role]],
  })),
  classNames: FASHION_MNIST_CLASSES,
  shape: { height: 28, width: 28, channels: 1 },
  counts: { train: 60_000, test: 10_000 },
  citation:
    'Han Xiao, Kashif Rasul, Roland Vollgraf. Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms. arXiv:1708.07747 (2017)',
  licence: 'MIT',
  // The served .gz files' sizes: tensorflow/datasets tensorflow_datasets/url_checksums/fashion_mnist.txt.
  approxDownloadBytes: 26_421_880 + 29_515 + 4_422_102 + 5_148,
};

const MNIST: CatalogEntry = {
  name: 'mnist',
  title: 'MNIST',
  description: 'handwritten digits 0–9 (NIST special databases 1 and 3)',
  homepage: 'http://yann.lecun.com/exdb/mnist/',
  // torchvision's mirror (HTTPS), TensorFlow's (HTTPS), then the original site, which at times refuses downloads.
  // The same files on all three: torchvision's MD5s (below) are for yann.lecun.com and ossci-datasets, TFDS's SHA-256s
  // for cvdf-datasets, and the sizes are those yann.lecun.com lists. Not reached from the build machines (no network).
  mirrors: [
    'https://ossci-datasets.s3.amazonaws.com/mnist/',
    'https://storage.googleapis.com/cvdf-datasets/mnist/',
    'http://yann.lecun.com/exdb/mnist/',
  ],
  // SHA-256 and size of the .gz files: tensorflow/datasets tensorflow_datasets/url_checksums/mnist.txt
  // (MD5s of the same files, for a cross-check: pytorch/vision torchvision/datasets/mnist.py, class MNIST).
  files: compressedFiles({
    trainImages: ['440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609', 9_912_422], // md5 f68b3c2dcbeaaa9fbdd348bbdeb94873
    trainLabels: ['3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c', 28_881], // md5 d53e105ee54ea40749a09fcbcd1e9432
    testImages: ['8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6', 1_648_877], // md5 9fb629c4189551a2d022fa330f9573f3
    testLabels: ['f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6', 4_542], // md5 ec29112dd5afa0611ce80d1b7f02629c
  }),
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  shape: { height: 28, width: 28, channels: 1 },
  counts: { train: 60_000, test: 10_000 },
  citation:
    'Yann LeCun, Corinna Cortes, Christopher J.C. Burges. The MNIST database of handwritten digits. http://yann.lecun.com/exdb/mnist/',
  // The site states no licence; CC BY-SA 3.0 is how Kaggle's Digit Recognizer and PyMVPA's data pages describe it.
  licence: 'CC BY-SA 3.0 (as commonly stated; the original site states none)',
};

const KMNIST: CatalogEntry = {
  name: 'kmnist',
  title: 'Kuzushiji-MNIST',
  description: 'cursive Japanese (kuzushiji) hiragana: one character for each of the 10 rows of the syllabary',
  homepage: 'https://github.com/rois-codh/kmnist',
  // CODH's server: its README links the plain-HTTP address; HTTPS is tried first (the SHA-256 guards either way).
  mirrors: ['https://codh.rois.ac.jp/kmnist/dataset/kmnist/', 'http://codh.rois.ac.jp/kmnist/dataset/kmnist/'],
  // SHA-256 and size of the .gz files: tensorflow/datasets tensorflow_datasets/url_checksums/kmnist.txt
  // (MD5s of the same files: pytorch/vision torchvision/datasets/mnist.py, class KMNIST).
  files: compressedFiles({
    trainImages: ['51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4', 18_165_135], // md5 bdb82020997e1d708af4cf47b453dcf7
    trainLabels: ['e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17', 29_497], // md5 e144d726b3acfaa3e44228e80efcd344
    testImages: ['edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5', 3_041_136], // md5 5c965bf0a639b31b8f53240b1b52f4d7
    testLabels: ['20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c', 5_120], // md5 7320c461ea6c1c855c0b718fb2a4b134
  }),
  // kmnist_classmap.csv (codh.rois.ac.jp): U+304A お … U+3092 を; the romanisations are torchvision's class names.
  classNames: ['お (o)', 'き (ki)', 'す (su)', 'つ (tsu)', 'な (na)', 'は (ha)', 'ま (ma)', 'や (ya)', 'れ (re)', 'を (wo)'],
  shape: { height: 28, width: 28, channels: 1 },
  counts: { train: 60_000, test: 10_000 },
  // The attribution the README asks for, and the paper it asks to cite.
  citation:
    '"KMNIST Dataset" (created by CODH), adapted from "Kuzushiji Dataset" (created by NIJL and others), doi:10.20676/00000341; ' +
    'Tarin Clanuwat et al. Deep Learning for Classical Japanese Literature. arXiv:1812.01718 (2018)',
  licence: 'CC BY-SA 4.0',
};

/**
 * What can be downloaded. EMNIST is not here: its only official distribution is one 562 MB zip of all six splits
 * (TFDS url_checksums/emnist.txt has its SHA-256, torchvision its MD5), which would need an unzipper and a choice of
 * split; the four-file IDX sets need neither.
 */
export const DATASET_CATALOG: readonly CatalogEntry[] = Object.freeze([FASHION_MNIST, MNIST, KMNIST]);

export const catalogNames = (catalog: readonly CatalogEntry[] = DATASET_CATALOG): string[] => catalog.map((e) => e.name);

/** The entry named `name`; an unknown name is one line listing the known ones. */
export function catalogEntry(name: string, catalog: readonly CatalogEntry[] = DATASET_CATALOG): CatalogEntry {
  const entry = catalog.find((e) => e.name === name);
  if (!entry) {
    throw new DataError(`no data set named ${JSON.stringify(name)} can be downloaded; known: ${catalogNames(catalog).join(', ')}`);
  }
  return entry;
}

/** About how many bytes downloading `entry` transfers: exact for compressed checksums, else its recorded estimate. */
export function downloadSize(entry: CatalogEntry): number | undefined {
  if (entry.files.every((f) => f.checksumOf === 'compressed')) return entry.files.reduce((sum, f) => sum + f.bytes, 0);
  return entry.approxDownloadBytes;
}

/** Where `data download NAME` puts a data set: `<appData>/data/<name>/` (Fashion-MNIST's is the app's data folder). */
export function downloadedDatasetDir(name: string, env?: NodeJS.ProcessEnv): string {
  if (!DATASET_NAME_PATTERN.test(name)) throw new DataError(`not a data set name: ${JSON.stringify(name)}`);
  return join(appDataDir(env), 'data', name);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function isBaseUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && text.endsWith('/') && !url.search && !url.hash;
  } catch {
    return false;
  }
}
/** A file name that stays inside the download folder. */
const PLAIN_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Why `entry` cannot be downloaded safely (a bad name, checksum, size or file name, a role missing or twice), or
 * undefined when it is well-formed. The downloader refuses an entry with a problem; the tests hold the catalog to it.
 */
export function catalogEntryProblem(entry: CatalogEntry): string | undefined {
  if (!DATASET_NAME_PATTERN.test(entry.name)) return `bad name ${JSON.stringify(entry.name)}`;
  if (entry.mirrors.length === 0) return `${entry.name}: no mirror`;
  for (const m of entry.mirrors) {
    if (!isBaseUrl(m)) return `${entry.name}: mirror ${JSON.stringify(m)} is not an http(s) URL ending in /`;
  }
  const roles = entry.files.map((f) => f.role).sort();
  if (roles.join() !== [...IDX_ROLES].sort().join()) return `${entry.name}: needs one file of each role (${IDX_ROLES.join(', ')})`;
  for (const f of entry.files) {
    if (!PLAIN_FILE_NAME.test(f.name)) return `${entry.name}: bad file name ${JSON.stringify(f.name)}`;
    if (f.checksumOf !== 'compressed' && f.checksumOf !== 'decompressed') return `${entry.name}: ${f.name}: bad checksumOf`;
    if (!SHA256_HEX.test(f.sha256)) return `${entry.name}: ${f.name}: sha256 is not 64 lowercase hex digits`;
    if (!Number.isSafeInteger(f.bytes) || f.bytes <= 0) return `${entry.name}: ${f.name}: bytes must be a positive integer`;
  }
  return undefined;
}
