/**
 * The security headers on every HTTP response: a strict CSP (our own scripts, our own socket), no referrer (the
 * token in the URL never leaks through Referer), no framing, no MIME sniffing, no cross-origin embedding.
 */
import type { ServerResponse } from 'node:http';
import { rendererCsp } from '../service/renderer-csp';

export type SecurityHeaders = Readonly<Record<string, string>>;

/** The policy for a server answering to `hostNames` on `port`. */
export function contentSecurityPolicy(hostNames: Iterable<string>, port: number): string {
  // 'self' covers same-origin ws: in CSP3 browsers; the explicit entries cover older ones.
  return rendererCsp([...hostNames].map((h) => `ws://${h}:${port}`));
}

export const securityHeaders = (hostNames: Iterable<string>, port: number): SecurityHeaders => ({
  'Content-Security-Policy': contentSecurityPolicy(hostNames, port),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

export function applySecurityHeaders(res: ServerResponse, headers: SecurityHeaders): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
