import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../src-main/engine/store';
import { csvCell } from '../../src-main/service/csv';
import { handleQuery } from '../../src-main/service/queries';

// Issue 19: a CSV opened in a spreadsheet must not run what a run's text says (OWASP CSV injection).
describe('CSV exports', () => {
  it('numbers stay numbers; text that a spreadsheet would take for a formula gets a leading quote', () => {
    expect([-0.5, 0, 1e-7, -3, 0.25].map(csvCell)).toEqual(['-0.5', '0', '1e-7', '-3', '0.25']);
    expect(['=1+2', '+1', '-1', '@SUM(A1)', '\tx', '\rx'].map(csvCell)).toEqual(["'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx", `"'\rx"`]);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(['plain', 'a,b', 'a=b', '', null, undefined, true].map(csvCell)).toEqual(['plain', '"a,b"', 'a=b', '', '', '', 'true']);
  });

  it('the history CSV has one backend column and neutralised text cells', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'cb-csv-')), 'runs.sqlite');
    const store = RunStore.open(dbPath);
    const { id } = store.createRun({ task: 'kmeans', params: { k: 10, backend: 'auto', note: '@x' }, seed: 1, backend: 'wasm' });
    store.failRun(id, "=cmd|' /C calc'!A0");
    store.close();
    const file = (await handleQuery('export.historyCsv', {}, { dbPath, busy: () => false, emit: () => undefined })) as { data: string };
    const [header, row] = file.data.trim().split('\n');
    const columns = header.split(',');
    expect(columns.filter((c) => c === 'backend')).toHaveLength(1);
    const cells = Object.fromEntries(columns.map((c, i) => [c, row.split(',')[i]]));
    expect(cells).toMatchObject({ backend: 'wasm', error: `'=cmd|' /C calc'!A0`, k: '10', note: "'@x" });
  });

  it('names every column once, a parameter named like a fixed column included', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'cb-csv-')), 'runs.sqlite');
    const store = RunStore.open(dbPath);
    store.createRun({ task: 'kmeans', params: { k: 3, backend: 'webgpu', status: 'mine', seconds: 7 }, seed: 1, backend: 'cpu' });
    store.close();
    const file = (await handleQuery('export.historyCsv', {}, { dbPath, busy: () => false, emit: () => undefined })) as { data: string };
    const [header, row] = file.data.trim().split('\n');
    const columns = header.split(',');
    expect(new Set(columns).size).toBe(columns.length);
    const cells = Object.fromEntries(columns.map((c, i) => [c, row.split(',')[i]]));
    expect(cells).toMatchObject({ backend: 'cpu', status: 'running', 'param.status': 'mine', 'param.seconds': '7', k: '3' });
  });
});
