/**
 * NumPy's `.npz`: a zip archive of `.npy` members, stored (`np.savez`) or deflated (`np.savez_compressed`). Lists the
 * arrays without decompressing anything, then decompresses only the members asked for (large ones on fflate's worker
 * threads, so the event loop stays free).
 */
import { unzip, unzipSync, type FlateError } from 'fflate';
import { DataError } from '../errors';

/** The most bytes one member may decompress to (a zip's header says so before anything is allocated). */
export const MAX_NPZ_MEMBER_BYTES = 2 ** 32 - 1;

const ZIP_MAGIC = [0x50, 0x4b]; // PK

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === ZIP_MAGIC[0] && bytes[1] === ZIP_MAGIC[1] && (bytes[2] === 3 || bytes[2] === 5);
}

export interface NpzArchive {
  /** The arrays' names, in the archive's order: member names without `.npy` (as numpy's `NpzFile.files`). */
  names: string[];
  /** Decompresses the named arrays' `.npy` bytes. */
  read(names: readonly string[]): Promise<Map<string, Uint8Array>>;
}

const arrayName = (member: string): string => member.replace(/\.npy$/, '');

const zipProblem = (err: unknown): string => `corrupt .npz (zip) archive: ${(err as FlateError).message ?? String(err)}`;

/** Opens an `.npz` held in `bytes` (the whole file). Throws a {@link DataError} naming `file` for a broken archive. */
export function openNpz(bytes: Uint8Array, file: string): NpzArchive {
  const members = new Map<string, { member: string; originalSize: number }>();
  try {
    unzipSync(bytes, {
      filter: (info) => {
        if (!info.name.endsWith('/')) members.set(arrayName(info.name), { member: info.name, originalSize: info.originalSize });
        return false; // list only
      },
    });
  } catch (err) {
    throw new DataError(zipProblem(err), file, { cause: err });
  }

  const read = async (names: readonly string[]): Promise<Map<string, Uint8Array>> => {
    const wanted = new Map<string, string>(); // member → array name
    for (const name of names) {
      const entry = members.get(name);
      if (!entry) throw new DataError(`holds no array '${name}'`, file);
      if (entry.originalSize > MAX_NPZ_MEMBER_BYTES)
        throw new DataError(
          `member ${entry.member} decompresses to ${entry.originalSize} bytes, more than the ${MAX_NPZ_MEMBER_BYTES} read`,
          file,
        );
      wanted.set(entry.member, name);
    }
    const files = await new Promise<Record<string, Uint8Array>>((resolve, reject) => {
      unzip(bytes, { filter: (info) => wanted.has(info.name) }, (err, data) =>
        err ? reject(new DataError(zipProblem(err), file, { cause: err })) : resolve(data),
      );
    });
    const out = new Map<string, Uint8Array>();
    for (const [member, name] of wanted) out.set(name, files[member]);
    return out;
  };

  return { names: [...members.keys()], read };
}
