/**
 * The desktop transport: one IPC channel for every contract operation and one for events, over the same
 * `EngineApi` the web mode uses. Only our own window's main frame may call; `files.save` is a native save
 * dialog plus an atomic write.
 */
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type ParsedRequestOf, type Reply, type Operation, type Responses } from '../contract/index';
import { writeFileAtomic } from '../engine/files';
import type { EngineApi, EngineApiOptions } from '../service/api';
import { dispatchSafely, failure } from '../service/transport';

export interface TrustedOrigins {
  /** The built renderer's index.html (loaded with loadFile). */
  rendererFile: string;
  /** The electron-vite dev server URL (ELECTRON_RENDERER_URL), in development only. */
  devServerUrl?: string;
}

/** Whether a frame URL is our own renderer: the built index.html (file://) or the dev server's origin. */
export function isTrustedRendererUrl(url: string | undefined, trusted: TrustedOrigins): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'file:') {
    const expected = pathToFileURL(trusted.rendererFile);
    return parsed.pathname === expected.pathname;
  }
  if (trusted.devServerUrl) {
    try {
      return parsed.origin === new URL(trusted.devServerUrl).origin;
    } catch {
      return false;
    }
  }
  return false;
}

/** A file name from the renderer, reduced to a harmless base name. */
export function safeFileName(suggested: string): string {
  const name = basename(suggested.replace(/\\/g, '/'))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f<>:"|?*]/g, '_')
    .replace(/^\.+/, '')
    .trim();
  return name.slice(0, 200) || 'clusterbench-export';
}

const FILTERS: Record<string, Electron.FileFilter> = {
  '.svg': { name: 'SVG image', extensions: ['svg'] },
  '.png': { name: 'PNG image', extensions: ['png'] },
  '.json': { name: 'JSON', extensions: ['json'] },
  '.csv': { name: 'CSV', extensions: ['csv'] },
};

/** `files.save` for the desktop: a native save dialog (attached to our window), then an atomic write. */
export function saveWithDialog(getWindow: () => BrowserWindow | undefined): NonNullable<EngineApiOptions['saveFile']> {
  return async (req: ParsedRequestOf<'files.save'>): Promise<Responses['files.save']> => {
    const name = safeFileName(req.suggestedName);
    const filter = FILTERS[extname(name).toLowerCase()];
    const options: Electron.SaveDialogOptions = {
      title: 'Save file',
      defaultPath: join(app.getPath('downloads'), name),
      filters: filter ? [filter, { name: 'All files', extensions: ['*'] }] : [{ name: 'All files', extensions: ['*'] }],
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    };
    const window = getWindow();
    const result = window && !window.isDestroyed() ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
    if (result.canceled || !result.filePath) return { saved: false };
    const data = req.encoding === 'base64' ? Buffer.from(req.data, 'base64') : Buffer.from(req.data, 'utf8');
    await writeFileAtomic(result.filePath, data);
    return { saved: true, path: result.filePath };
  };
}

export interface IpcOptions {
  api: EngineApi;
  trusted: TrustedOrigins;
  /** The windows whose webContents may call and receive events. */
  isOurWebContents: (contents: WebContents) => boolean;
}

function rejectSender(e: IpcMainInvokeEvent): boolean {
  return e.senderFrame === null || e.senderFrame.parent !== null;
}

/**
 * Wires the contract to IPC: `clusterbench:call` (op, payload) → Reply, and every engine event to every
 * window of ours as `clusterbench:event` (name, payload). Returns a function that unwires both.
 */
export function registerIpc(options: IpcOptions): () => void {
  const { api, trusted, isOurWebContents } = options;

  ipcMain.handle(IPC_CALL_CHANNEL, async (e, op: unknown, payload: unknown): Promise<Reply<Operation>> => {
    // Only the main frame of our own window, showing our own renderer, may talk to the engine.
    if (rejectSender(e) || !isOurWebContents(e.sender) || !isTrustedRendererUrl(e.senderFrame?.url, trusted)) {
      return failure('failed', 'Refused: the request did not come from the Clusterbench window');
    }
    return dispatchSafely(api, op, payload);
  });

  const unsubscribe = api.subscribe((event, payload) => {
    for (const window of BrowserWindow.getAllWindows()) {
      const contents = window.webContents;
      if (window.isDestroyed() || contents.isDestroyed() || !isOurWebContents(contents)) continue;
      if (!isTrustedRendererUrl(contents.getURL(), trusted)) continue;
      contents.send(IPC_EVENT_CHANNEL, event, payload);
    }
  });

  return () => {
    ipcMain.removeHandler(IPC_CALL_CHANNEL);
    unsubscribe();
  };
}
