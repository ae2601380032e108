/**
 * Which names and origins this server answers to. The Host header must name this server (127.0.0.1:PORT,
 * localhost:PORT): DNS-rebinding protection, since a rebound DNS name reaches 127.0.0.1 with the attacker's name
 * in Host. A WebSocket upgrade's Origin must be this server's own origin, so cross-site pages cannot connect.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Whether listening on `host` keeps the server to this machine (anything else deserves a warning). */
export const isLoopback = (host: string): boolean => LOOPBACK.has(host);

/** Bound to every interface: the server is reached by whatever address the client used. */
const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::';

/** The names (without port) a Host header may use: the loopback names, plus an explicit host as written in a URL. */
export function hostNames(host: string): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost']);
  if (!isWildcard(host) && host !== '127.0.0.1' && host !== 'localhost')
    names.add(host.includes(':') ? `[${host.toLowerCase()}]` : host.toLowerCase());
  return names;
}

/** The host to print in the URL: loopback and wildcard binds are opened as 127.0.0.1. */
export const urlHost = (host: string): string =>
  isLoopback(host) || isWildcard(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

export interface OriginChecks {
  hostAllowed(req: IncomingMessage): boolean;
  originAllowed(req: IncomingMessage): boolean;
}

export function originChecks(host: string, port: number): OriginChecks {
  const allowedHosts = new Set([...hostNames(host)].map((name) => `${name}:${port}`));
  const wildcard = isWildcard(host);

  /** The Host header names this server: 127.0.0.1:PORT, localhost:PORT, the explicit host, or (bound to all
   * interfaces) any IP literal with our port. Never an arbitrary DNS name: that is what DNS rebinding uses. */
  const hostAllowed = (req: IncomingMessage): boolean => {
    const h = req.headers.host?.toLowerCase();
    if (!h) return false;
    if (allowedHosts.has(h)) return true;
    if (!wildcard) return false;
    const m = /^(?:\[([0-9a-f:.]+)\]|([0-9.]+)):(\d+)$/.exec(h);
    return m !== null && Number(m[3]) === port && isIP(m[1] ?? m[2] ?? '') !== 0;
  };

  /** A WebSocket's Origin must be this very server: http:// plus the (allowed) Host it connected to. */
  const originAllowed = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    return typeof origin === 'string' && hostAllowed(req) && origin.toLowerCase() === `http://${req.headers.host!.toLowerCase()}`;
  };

  return { hostAllowed, originAllowed };
}
