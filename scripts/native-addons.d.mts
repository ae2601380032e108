/** Types of scripts/native-addons.mjs, for the tests. */
export type AddonKind = 'node-api' | 'node-abi' | 'unknown';
export function productionPackageDirs(rootDir: string): string[];
export function addonKind(bytes: Buffer): AddonKind;
export function shippedAddons(rootDir: string): { file: string; kind: AddonKind }[];
