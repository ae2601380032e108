/**
 * The container formats, by name: each reader turns files into a ReadData (data/dataset.ts). A new format is one
 * file implementing FormatReader plus one line here.
 */
import type { DatasetFormat, FormatReader } from '../dataset';
import { readCsvTable } from './csv-table';
import { readIdxSet } from './idx-set';
import { readImageFolder } from './image-folder';
import { readNpy, readNpz } from './numpy';

export const FORMAT_READERS: Record<DatasetFormat, FormatReader> = {
  idx: readIdxSet,
  folder: readImageFolder,
  csv: readCsvTable,
  npy: readNpy,
  npz: readNpz,
};
