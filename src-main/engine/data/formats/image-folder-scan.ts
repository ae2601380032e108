/**
 * The listing half of the image-folder reader: which files a folder holds, arranged as splits (`train/`, `test/`)
 * and class folders, without opening a single file. Hidden entries (names starting with `.`, and the `__MACOSX`
 * folder that macOS adds to zip files) are ignored. A link is followed only when its target stays inside the folder
 * that was named; links that leave it, or lead nowhere, are listed as skipped. Only one level of class folders is
 * read: folders inside a class folder are listed as skipped.
 */
import type { Dirent } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { throwIfAborted } from '../../abort';
import { MAX_CLASSES, MAX_ROWS } from '../dataset';
import { DataError } from '../errors';

export interface ListedFile {
  /** Path inside its split's folder, `/`-separated (`cat/001.png`, or `001.png` in a flat folder): what the hash records. */
  rel: string;
  /** Where to read it: the path of the file, or of a link's target inside the folder. */
  path: string;
  /** How messages name it: the split's folder as given, joined with `rel`. */
  display: string;
}

export interface ListedSplit {
  /** The split's folder as given (`<path>/train`, `<path>`, or the test folder). */
  dir: string;
  /** Class folder names in byte order; null for a flat folder (unlabelled). */
  classes: string[] | null;
  /** The files of each class, in `classes` order (a flat folder: one list), each list by name in byte order. */
  files: ListedFile[][];
}

/** Files lying beside folders where only folders belong: images among them are an error, anything else is skipped. */
export interface LooseFiles {
  files: ListedFile[];
  /** The problem when one of them is an image, to follow `<file>: ` (e.g. "an image directly in a folder of class folders"). */
  problem: string;
}

export interface FolderListing {
  train: ListedSplit;
  test?: ListedSplit;
  loose: LooseFiles[];
  /** Folders not read (inside class folders), as `display` paths. */
  skippedFolders: string[];
  /** Links leaving the folder or leading nowhere, and entries that are neither file nor folder, as `display` paths. */
  skippedOther: string[];
}

/**
 * Byte order of the names' UTF-8 (= code point order), the same in every locale. JavaScript's `<` compares UTF-16
 * units, which puts characters above U+FFFF (surrogate pairs) before U+E000–U+FFFF; this moves them after.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

const codePointRank = (unit: number): number => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit);

export const isHidden = (name: string): boolean => name.startsWith('.') || name === '__MACOSX';

interface Entry {
  name: string;
  kind: 'file' | 'folder';
  /** Where it is (a link's target when it is a link). */
  path: string;
}

/** Counts the files listed, across all folders, so that a folder of millions of files fails before it fills memory. */
class ListingBudget {
  private files = 0;
  constructor(
    private readonly root: string,
    private readonly signal: AbortSignal | undefined,
  ) {}
  addFile(): void {
    if (++this.files > MAX_ROWS) throw new DataError(`holds more than ${MAX_ROWS} files, more than a data set may have`, this.root);
    if ((this.files & 1023) === 0) throwIfAborted(this.signal);
  }
}

/** The folder's real path, or one clear line when it is missing, a file, or unreadable. */
export async function realFolder(path: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    throw new DataError(describeFsError(err, 'folder not found'), path, { cause: err });
  }
  if (!(await stat(real)).isDirectory()) throw new DataError('is a file, not a folder of images', path);
  return real;
}

function describeFsError(err: unknown, notFound: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return notFound;
  if (code === 'EACCES' || code === 'EPERM') return 'cannot read it (permission denied)';
  return `cannot read it (${(err as Error).message})`;
}

const inside = (root: string, target: string): boolean => {
  const rel = relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/** The entries of one folder, by name in byte order; links resolved (or skipped), hidden entries left out. */
async function listEntries(dir: string, display: string, root: string, budget: ListingBudget, skippedOther: string[]): Promise<Entry[]> {
  const entries: Entry[] = [];
  let handle;
  try {
    handle = await opendir(dir);
  } catch (err) {
    throw new DataError(describeFsError(err, 'folder not found'), display, { cause: err });
  }
  for await (const dirent of handle) {
    if (isHidden(dirent.name)) continue;
    const entry = await classify(dirent, dir, root);
    if (entry) {
      if (entry.kind === 'file') budget.addFile();
      entries.push(entry);
    } else skippedOther.push(join(display, dirent.name));
  }
  return entries.sort((a, b) => compareNames(a.name, b.name));
}

async function classify(dirent: Dirent, dir: string, root: string): Promise<Entry | undefined> {
  const path = join(dir, dirent.name);
  if (dirent.isFile()) return { name: dirent.name, kind: 'file', path };
  if (dirent.isDirectory()) return { name: dirent.name, kind: 'folder', path };
  if (!dirent.isSymbolicLink()) return undefined; // sockets, pipes, devices: never opened
  try {
    const target = await realpath(path);
    if (!inside(root, target)) return undefined;
    const info = await stat(target);
    if (info.isFile()) return { name: dirent.name, kind: 'file', path: target };
    if (info.isDirectory()) return { name: dirent.name, kind: 'folder', path: target };
  } catch {
    // a link that leads nowhere
  }
  return undefined;
}

const names = (entries: Entry[], max = 3): string => {
  const shown = entries.slice(0, max).map((e) => e.name);
  return shown.join(', ') + (entries.length > max ? `, … (${entries.length} in all)` : '');
};

type Skipped = Pick<FolderListing, 'loose' | 'skippedFolders' | 'skippedOther'>;

/** Lists one split's folder: class folders (one level) or a flat folder of files. */
async function listSplit(dir: string, display: string, root: string, budget: ListingBudget, out: Skipped): Promise<ListedSplit> {
  return splitOf(await listEntries(dir, display, root, budget, out.skippedOther), display, root, budget, out);
}

async function splitOf(entries: Entry[], display: string, root: string, budget: ListingBudget, out: Skipped): Promise<ListedSplit> {
  const folders = entries.filter((e) => e.kind === 'folder');
  const files = entries.filter((e) => e.kind === 'file');
  const asListed = (e: Entry, rel: string): ListedFile => ({ rel, path: e.path, display: join(display, rel) });
  if (folders.length === 0) return { dir: display, classes: null, files: [files.map((e) => asListed(e, e.name))] };

  if (folders.length > MAX_CLASSES)
    throw new DataError(`has ${folders.length} class folders, more than the ${MAX_CLASSES} classes a data set may have`, display);
  out.loose.push({
    files: files.map((e) => asListed(e, e.name)),
    problem: `an image directly in a folder of class folders (${names(folders)}): move it into its class folder, or the class folders out`,
  });
  const classFiles: ListedFile[][] = [];
  for (const folder of folders) {
    const inClass = await listEntries(folder.path, join(display, folder.name), root, budget, out.skippedOther);
    for (const e of inClass) {
      if (e.kind === 'folder') out.skippedFolders.push(join(display, folder.name, e.name));
    }
    classFiles.push(inClass.filter((e) => e.kind === 'file').map((e) => asListed(e, `${folder.name}/${e.name}`)));
  }
  return { dir: display, classes: folders.map((f) => f.name), files: classFiles };
}

/**
 * Lists `path` (and `testPath`, a second folder for the test split): `train/` and `test/` folders give the two
 * splits; otherwise the folder is one split. Throws a DataError for a missing folder, a folder with `test/` but no
 * `train/`, split folders beside other folders, or more files than MAX_ROWS.
 */
export async function listImageFolder(path: string, testPath?: string, signal?: AbortSignal): Promise<FolderListing> {
  const root = await realFolder(path);
  const budget = new ListingBudget(path, signal);
  const out: FolderListing = { train: { dir: path, classes: null, files: [] }, loose: [], skippedFolders: [], skippedOther: [] };
  const top = await listEntries(root, path, root, budget, out.skippedOther);
  const folders = top.filter((e) => e.kind === 'folder');
  const trainFolder = folders.find((e) => e.name === 'train');
  const testFolder = folders.find((e) => e.name === 'test');

  if (trainFolder || testFolder) {
    if (!trainFolder) throw new DataError('has a test/ folder but no train/ folder beside it', path);
    const others = folders.filter((e) => e !== trainFolder && e !== testFolder);
    if (others.length > 0)
      throw new DataError(
        `has train/ and test/ folders beside other folders (${names(others)}): put the class folders inside train/ (and test/)`,
        path,
      );
    if (testFolder && testPath !== undefined)
      throw new DataError(`has its own test/ folder, and ${testPath} was named as the test folder too`, path);
    out.loose.push({
      files: top.filter((e) => e.kind === 'file').map((e) => ({ rel: e.name, path: e.path, display: join(path, e.name) })),
      problem: 'an image directly beside the train/ and test/ folders: move it into train/ (or test/)',
    });
    out.train = await listSplit(trainFolder.path, join(path, 'train'), root, budget, out);
    if (testFolder) out.test = await listSplit(testFolder.path, join(path, 'test'), root, budget, out);
  } else {
    out.train = await splitOf(top, path, root, budget, out);
  }

  if (testPath !== undefined) {
    const testRoot = await realFolder(testPath);
    out.test = await listSplit(testRoot, testPath, testRoot, budget, out);
  }
  if (out.test) checkTestClasses(out.train, out.test);
  return out;
}

function checkTestClasses(train: ListedSplit, test: ListedSplit): void {
  if ((train.classes === null) !== (test.classes === null)) {
    const [labelled, flat] = train.classes ? [train, test] : [test, train];
    throw new DataError(`has class folders but ${flat.dir} has none: both splits must be labelled, or neither`, labelled.dir);
  }
  if (!train.classes || !test.classes) return;
  const known = new Set(train.classes);
  const unknown = test.classes.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 3).join(', ') + (unknown.length > 3 ? `, … (${unknown.length} in all)` : '');
    throw new DataError(`has class folders that the training split lacks (${shown}): the test classes must be training classes`, test.dir);
  }
}
