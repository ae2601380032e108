import { contextBridge } from 'electron';

// The typed engine API is exposed here as `window.clusterbench` (see the contract module).
contextBridge.exposeInMainWorld('clusterbench', { version: '0.1.0' });
