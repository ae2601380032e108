// A run's scores as the tiles, tables and comparisons show them: the label scores (accuracy, NMI, ARI: only when
// the data set has labels) and the label-free ones every run has (silhouette, Calinski–Harabasz, Davies–Bouldin).
import { fixed, int, pct } from './format';

/** One tile of the scores row. */
export interface ScoreTile {
  label: string;
  value: string;
  hint?: string;
  testid?: string;
  primary?: boolean;
}

type Metrics = Readonly<Record<string, number | undefined | null>> | null | undefined;

const num = (metrics: Metrics, key: string): number | null => {
  const v = metrics?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** Calinski–Harabasz runs from near 0 to tens of thousands: grouped digits, one decimal. */
export const chText = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '—'
    : v.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** The label scores, as the study reports them. */
export function labelTiles(metrics: Metrics): ScoreTile[] {
  return [
    { label: 'Accuracy', value: pct(num(metrics, 'accuracy')), hint: 'after Hungarian mapping', testid: 'metric-accuracy', primary: true },
    { label: 'NMI', value: fixed(num(metrics, 'nmi'), 4), hint: 'normalised mutual information', testid: 'metric-nmi' },
    { label: 'ARI', value: fixed(num(metrics, 'ari'), 4), hint: 'adjusted Rand index', testid: 'metric-ari' },
  ];
}

/**
 * What the silhouette was computed on: "on a sample of 5,000 of 10,000 images" when sampled, "on all 2,000
 * images" when not, or nothing when the run does not say.
 */
export function silhouetteSampleText(metrics: Metrics, evalSize: number | null | undefined): string {
  const sample = num(metrics, 'silhouetteSample');
  if (sample === null) return '';
  if (evalSize && sample < evalSize) return `on a sample of ${int(sample)} of ${int(evalSize)}`;
  return `on all ${int(sample)}`;
}

/** The label-free scores the run has (none for runs recorded before they existed). */
export function labelFreeTiles(metrics: Metrics, evalSize: number | null | undefined, primary = false): ScoreTile[] {
  const tiles: ScoreTile[] = [];
  const silhouette = num(metrics, 'silhouette');
  if (silhouette !== null) {
    const sample = silhouetteSampleText(metrics, evalSize);
    tiles.push({
      label: 'Silhouette',
      value: fixed(silhouette, 4),
      hint: `−1…1, higher is better${sample ? ` · ${sample}` : ''}`,
      testid: 'metric-silhouette',
      primary,
    });
  }
  const ch = num(metrics, 'calinskiHarabasz');
  if (ch !== null)
    tiles.push({ label: 'Calinski–Harabasz', value: chText(ch), hint: 'higher is better', testid: 'metric-calinski-harabasz' });
  const db = num(metrics, 'daviesBouldin');
  if (db !== null) tiles.push({ label: 'Davies–Bouldin', value: fixed(db, 4), hint: 'lower is better', testid: 'metric-davies-bouldin' });
  return tiles;
}

/** The scores row of a run: label scores first when it has labels, then the label-free ones. */
export function scoreTiles(metrics: Metrics, labelled: boolean, evalSize: number | null | undefined): ScoreTile[] {
  return labelled ? [...labelTiles(metrics), ...labelFreeTiles(metrics, evalSize)] : labelFreeTiles(metrics, evalSize, true);
}

/** The label-free scores of comparisons: key, label, which way is better, and how to write one. */
export const LABEL_FREE_SCORES = [
  { key: 'silhouette', label: 'Silhouette', higher: true, fmt: (v: number | null) => fixed(v, 4) },
  { key: 'calinskiHarabasz', label: 'Calinski–Harabasz', higher: true, fmt: chText },
  { key: 'daviesBouldin', label: 'Davies–Bouldin', higher: false, fmt: (v: number | null) => fixed(v, 4) },
] as const;

export const metricOf = num;
