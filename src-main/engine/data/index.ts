/** The data layer: locating, reading, validating and downloading Fashion-MNIST. */
export { DataError, DataNotFoundError, DownloadError, type SearchedPlace } from './errors';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_SHA256,
  loadFashionMnist,
  loadLocatedFashionMnist,
  normalisePixels,
  pixelStats,
  readCsvSplit,
  readIdxSplit,
  subset,
  toImageSet,
  type FashionMnist,
  type FashionMnistInfo,
  type LoadFashionMnistOptions,
} from './fashion-mnist';
export {
  CSV_FILES,
  DATA_DIR_ENV,
  DEBIAN_DATA_DIR,
  IDX_FILES,
  dataDirCandidates,
  howToGetData,
  inspectDataDir,
  locateFashionMnist,
  type DataDirCandidate,
  type DataFormat,
  type DirInspection,
  type LocatedDataset,
  type LocateOptions,
} from './locate';
export {
  DOWNLOAD_FILES,
  FASHION_MNIST_BASE_URL,
  FASHION_MNIST_MIRRORS,
  downloadFashionMnist,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type DownloadedFile,
} from './download';
export {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  IMAGE_HEIGHT,
  IMAGE_WIDTH,
  NUM_CLASSES,
  parseIdxImages,
  parseIdxLabels,
  type RawImages,
} from './idx';
export { CSV_COLUMNS, CsvImageParser, parseCsvImages, parseCsvImagesAsync, type RawLabelledImages } from './csv';
export { checksumKey, readDataFile, sha256Hex, type DataFileContent } from './io';
