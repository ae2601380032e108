/**
 * The names of every contract operation and event, with no dependencies at all: the sandboxed preload and
 * the renderer's transport import only this (the full contract pulls in zod for validation). `index.ts`
 * checks at compile time that these lists match its request schemas and event types exactly.
 */
export const OPERATION_NAMES = [
  'runs.start',
  'runs.cancel',
  'runs.list',
  'runs.get',
  'runs.delete',
  'runs.compare',
  'runs.clusterImages',
  'runs.imageDetail',
  'runs.embedding',
  'jobs.list',
  'history.info',
  'dataset.info',
  'dataset.samples',
  'dataset.download',
  'backends.list',
  'export.confusion',
  'export.runJson',
  'export.historyCsv',
  'files.save',
  'sweeps.plan',
  'sweeps.start',
  'sweeps.list',
  'sweeps.get',
  'sweeps.cancel',
  'sweeps.resume',
  'sweeps.delete',
  'sweeps.compare',
  'export.sweepCsv',
  'export.methodTable',
  'export.runArrays',
  'datasets.list',
  'datasets.show',
  'datasets.add',
  'datasets.cancelAdd',
  'datasets.preview',
  'datasets.remove',
] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

export const EVENT_NAMES = [
  'job.queued',
  'job.started',
  'job.progress',
  'job.epoch',
  'job.finished',
  'job.failed',
  'job.cancelled',
  'dataset.downloadProgress',
  'sweep.updated',
  'datasets.addProgress',
] as const;
export type EventNameLiteral = (typeof EVENT_NAMES)[number];

/** The IPC channels between preload and main (desktop). */
export const IPC_CALL_CHANNEL = 'clusterbench:call';
export const IPC_EVENT_CHANNEL = 'clusterbench:event';
