/**
 * The autoencoder architectures, by the pipeline's `encoder` value. A new encoder is one file implementing
 * AutoencoderArchitecture (autoencoder.ts) plus one line here, and its choice in schema/param-table.ts.
 */
import type { AutoencoderArchitecture } from './autoencoder';
import { convArchitecture } from './conv-autoencoder';
import { denseArchitecture } from './dense-autoencoder';

export const AUTOENCODERS = {
  conv: convArchitecture,
  dense: denseArchitecture,
} satisfies Record<string, AutoencoderArchitecture>;

export type AutoencoderKind = keyof typeof AUTOENCODERS;

export function autoencoderArchitecture(kind: AutoencoderKind): AutoencoderArchitecture {
  return AUTOENCODERS[kind];
}

/** The architecture a stored id belongs to; runs stored before ids were recorded had the study's conv one. */
export function architectureOfId(id: string | undefined): AutoencoderArchitecture | undefined {
  if (id === undefined) return convArchitecture;
  return Object.values<AutoencoderArchitecture>(AUTOENCODERS).find((a) => a.owns(id));
}
