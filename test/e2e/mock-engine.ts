/**
 * A stand-in engine for UI tests that need what no real run gives quickly (a cluster of 70,000 images): the page's
 * WebSocket to the bridge is routed to handlers written here (playwright's routeWebSocket), so the built UI runs
 * unchanged against answers the test chooses. Operations without a handler answer `failed`, named.
 */
import type { Page } from 'playwright-core';
import type { ContractError, Operation, RequestOf, Responses } from '../../src-main/contract/index';

export type MockHandlers = { [O in Operation]?: (request: RequestOf<O>) => Responses[O] };

/** What the app asks for on every page (the queue, the history, the sweeps), answered empty. */
export const EMPTY_APP: MockHandlers = {
  'jobs.list': () => [],
  'runs.list': () => [],
  'sweeps.list': () => [],
  'history.info': () => ({ path: '/mock/history.sqlite', readOnly: false }),
  'backends.list': () => [],
};

export interface MockEngine {
  /** Every request the page sent, in order. */
  requests: { op: Operation; payload: unknown }[];
}

/** Routes the page's bridge socket to `handlers` (reload the page afterwards so the app connects to it). */
export async function mockEngine(page: Page, handlers: MockHandlers): Promise<MockEngine> {
  const all: MockHandlers = { ...EMPTY_APP, ...handlers };
  const requests: MockEngine['requests'] = [];
  await page.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    ws.onMessage((message) => {
      const m = JSON.parse(String(message)) as { id: number; op: Operation; payload: unknown };
      requests.push({ op: m.op, payload: m.payload });
      const handler = all[m.op] as ((request: unknown) => unknown) | undefined;
      let reply: { ok: true; value: unknown } | { ok: false; error: ContractError };
      if (!handler) reply = { ok: false, error: { code: 'failed', message: `the mock engine has no ${m.op}` } };
      else {
        try {
          reply = { ok: true, value: handler(m.payload) };
        } catch (err) {
          reply = { ok: false, error: { code: 'failed', message: (err as Error).message } };
        }
      }
      ws.send(JSON.stringify({ id: m.id, reply }));
    });
  });
  return { requests };
}
