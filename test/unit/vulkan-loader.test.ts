import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VULKAN_LOADER, vulkanLoaderFound } from '../../src-main/engine/backend/vulkan-loader';

describe('vulkanLoaderFound', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-vk-'));
  const cache = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('finds the loader in the linker cache or LD_LIBRARY_PATH', () => {
    expect(vulkanLoaderFound({}, cache('with', `ld.so-1.7.0\0libc.so.6\0${VULKAN_LOADER}\0`))).toBe(true);
    const libs = mkdtempSync(join(tmpdir(), 'cb-vk-lib-'));
    writeFileSync(join(libs, VULKAN_LOADER), '');
    expect(vulkanLoaderFound({ LD_LIBRARY_PATH: `/nowhere:${libs}` }, cache('without', 'ld.so-1.7.0\0libc.so.6\0'))).toBe(true);
  });

  it('says no only when the cache can be read and names no loader; an unreadable cache lets Dawn try', () => {
    expect(vulkanLoaderFound({}, cache('empty', 'ld.so-1.7.0\0libc.so.6\0'), [dir])).toBe(false);
    expect(vulkanLoaderFound({}, join(dir, 'no-such-cache'), [dir])).toBe(true);
  });
});
