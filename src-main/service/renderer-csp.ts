/**
 * The Content-Security-Policy of the renderer, one policy for both ways it is served: the desktop window
 * (app/main.ts) and web mode (web/csp.ts). Only the sockets and servers it may connect to differ.
 */
export function rendererCsp(connectSources: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${["'self'", ...connectSources].join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
