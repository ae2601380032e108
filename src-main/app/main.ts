// The Electron main process: one window, the engine API (work runs in the engine worker thread, never
// here), IPC wiring, and a locked-down renderer (sandbox, context isolation, strict CSP, no navigation).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, session, shell, type WebContents } from 'electron';
import { isTrustedRendererUrl, registerIpc, saveWithDialog, type TrustedOrigins } from './ipc';
import { createEngineApi, type EngineApi } from '../service/api';
import { rendererCsp } from '../service/renderer-csp';

const here = dirname(fileURLToPath(import.meta.url));
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const trusted: TrustedOrigins = { rendererFile: join(here, '../renderer/index.html'), devServerUrl };

/** The renderer's policy; under `npm run dev` it may also reach the dev server and its hot-reload socket. */
function contentSecurityPolicy(): string {
  const dev = devServerUrl ? new URL(devServerUrl) : undefined;
  return rendererCsp(dev ? [`ws://${dev.host}`, dev.origin] : []);
}

const windows = new Set<number>();
const isOurWebContents = (contents: WebContents): boolean => windows.has(contents.id);

function openExternalIfWeb(url: string): void {
  try {
    const { protocol } = new URL(url);
    if (protocol === 'https:' || protocol === 'http:') void shell.openExternal(url);
  } catch {
    /* not a URL: ignore */
  }
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    show: false,
    title: 'Clusterbench',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const id = window.webContents.id;
  windows.add(id);
  window.on('closed', () => windows.delete(id));
  window.on('ready-to-show', () => window.show());

  // No remote content: the window never navigates away; links to the web open in the OS browser.
  window.webContents.on('will-navigate', (event, url) => {
    event.preventDefault();
    if (!isTrustedRendererUrl(url, trusted)) openExternalIfWeb(url);
  });
  window.webContents.on('will-redirect', (event, url) => {
    if (!isTrustedRendererUrl(url, trusted)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    openExternalIfWeb(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-attach-webview', (event) => event.preventDefault());

  if (devServerUrl) void window.loadURL(devServerUrl);
  else void window.loadFile(trusted.rendererFile);
  return window;
}

function lockDownSession(): void {
  const ses = session.defaultSession;
  const csp = contentSecurityPolicy();
  ses.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders = { ...details.responseHeaders };
    // Our own pages (file:// build or the dev server) get the strict CSP as a header, on top of the meta tag.
    if (
      isTrustedRendererUrl(details.url, trusted) ||
      details.url.startsWith('file://') ||
      (devServerUrl && details.url.startsWith(new URL(devServerUrl).origin))
    ) {
      for (const key of Object.keys(responseHeaders)) if (key.toLowerCase() === 'content-security-policy') delete responseHeaders[key];
      responseHeaders['Content-Security-Policy'] = [csp];
    }
    callback({ responseHeaders });
  });
  // Nothing (camera, notifications, geolocation, …) is ever granted to the page.
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

let api: EngineApi | undefined;
let unwireIpc: (() => void) | undefined;

function focusedOrFirstWindow(): BrowserWindow | undefined {
  return BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows().find((w) => windows.has(w.webContents.id));
}

// One instance: a second launch focuses the existing window (two engines on one database would race).
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const window = focusedOrFirstWindow();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });

  // Any webContents created anywhere (devtools aside) gets the same navigation rules.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isTrustedRendererUrl(url, trusted)) event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      openExternalIfWeb(url);
      return { action: 'deny' };
    });
  });

  void app.whenReady().then(() => {
    lockDownSession();
    api = createEngineApi({ saveFile: saveWithDialog(focusedOrFirstWindow) });
    unwireIpc = registerIpc({ api, trusted, isOurWebContents });
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Close the engine (cancels queued/running jobs, stops the worker) before quitting.
  let closing = false;
  app.on('will-quit', (event) => {
    if (!api || closing) return;
    closing = true;
    event.preventDefault();
    unwireIpc?.();
    const done = (): void => {
      api = undefined;
      app.quit();
    };
    const timeout = setTimeout(done, 5000);
    void api
      .close()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timeout);
        done();
      });
  });
}
