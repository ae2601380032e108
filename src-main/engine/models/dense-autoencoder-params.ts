/**
 * The dense autoencoder's architecture parameters (N2D's 784-500-500-2000-10 with MSE by default). Pure zod: the
 * experiment table (schema/param-table.ts) composes them.
 */
import { z } from 'zod';
import { int, type ParamsOf } from '../schema/constraints';

export const AE_LOSSES = ['mse', 'bce'] as const;
export type AutoencoderLoss = (typeof AE_LOSSES)[number];

export const DENSE_AE_PARAMS = {
  /**
   * Hidden layer sizes of the encoder, input side first; the decoder mirrors them. At most 4096 wide: 8 such layers
   * already make ≈ 270M weights (≈ 4 GB with their gradients and Adam's state).
   */
  layers: z
    .array(int(1, 4096), { error: 'must be a list of layer sizes' })
    .min(1, 'needs at least one layer')
    .max(8, 'at most 8 layers')
    .default([500, 500, 2000]),
  /** Size of the code (a linear layer). */
  codeSize: int(1, 4096).default(10),
  /** mse with a linear output, bce with a sigmoid output. */
  loss: z.enum(AE_LOSSES).default('mse'),
};

export type DenseAutoencoderParams = ParamsOf<typeof DENSE_AE_PARAMS>;
