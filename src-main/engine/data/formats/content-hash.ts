import { createHash, type Hash } from 'node:crypto';

/**
 * The sha256 a format reader reports (ReadData.sha256): of every byte it read, in the order it adds them. Each file
 * (or archive member) goes in behind its role in the data set ("train images", "test labels", "npz member x_test")
 * and its length, so that swapping two files, or moving bytes from one file to the next, changes the hash, while
 * renaming or moving the files (or gzipping them: the content is hashed decompressed) does not.
 */
export class ContentHash {
  private readonly hash: Hash = createHash('sha256');

  add(role: string, content: Uint8Array): this {
    this.hash.update(`${role}\n${content.length}\n`);
    this.hash.update(content);
    return this;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
