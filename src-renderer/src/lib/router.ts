// A small hash router: the whole app state that deserves a URL lives in `location.hash`, e.g.
// #/new, #/live/job-3, #/runs, #/runs/12?tab=images, #/sweeps, #/sweeps/2, #/compare/3,4 (sweeps as s2: #/compare/3,s2),
// #/data.
import { computed, ref } from 'vue';

export type RouteName = 'new' | 'live' | 'runs' | 'run' | 'sweeps' | 'sweep' | 'compare' | 'data';

export interface Route {
  name: RouteName;
  /** Path segments after the first one (e.g. the run id). */
  params: string[];
  query: Record<string, string>;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path, queryString = ''] = raw.split('?');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(queryString)) query[k] = v;
  const head = segments[0] ?? 'new';
  const params = segments.slice(1);
  switch (head) {
    case 'live':
      return { name: 'live', params, query };
    case 'runs':
      return params.length ? { name: 'run', params, query } : { name: 'runs', params, query };
    case 'sweeps':
      return params.length ? { name: 'sweep', params, query } : { name: 'sweeps', params, query };
    case 'compare':
      return { name: 'compare', params, query };
    case 'data':
      return { name: 'data', params, query };
    default:
      return { name: 'new', params: [], query };
  }
}

const current = ref<Route>(parse(typeof location === 'undefined' ? '' : location.hash));
if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    current.value = parse(location.hash);
  });
}

export const route = computed(() => current.value);

export function href(path: string, query?: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/${path.replace(/^\/+/, '')}${qs ? `?${qs}` : ''}`;
}

export function navigate(path: string, query?: Record<string, string | number | undefined>): void {
  const target = href(path, query);
  if (location.hash === target) return;
  location.hash = target;
  // Update synchronously so callers can rely on the new route right away.
  current.value = parse(target);
}

/** Changes the query of the current route without adding a history entry. */
export function replaceQuery(query: Record<string, string | number | undefined>): void {
  const r = current.value;
  const base = location.hash.replace(/^#\/?/, '').split('?')[0];
  const merged: Record<string, string | number | undefined> = { ...r.query, ...query };
  const target = href(base, merged);
  history.replaceState(null, '', target);
  current.value = parse(target);
}
