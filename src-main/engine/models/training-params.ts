/**
 * The autoencoders' training settings (the training loop's `_parameter_constraints`), and the augmentation of the
 * training batches. The trainer validates with them, the experiment table (schema/param-table.ts) composes them
 * (with the study's values as defaults: Adam, lr 0.01, batch 128, 50 epochs). Pure zod.
 */
import { int, num, rate, seed, type ParamsOf } from '../schema/constraints';

const EPOCHS_MAX = 10_000;

export const TRAINING_PARAMS = {
  epochs: int(1, EPOCHS_MAX).default(50),
  batchSize: int(1, 65_536).default(128),
  /** Adam's learning rate. */
  learningRate: rate(10).default(0.01),
  /** Fraction of the training images (the last ones, deterministic) held out for the validation loss; 0 = none. */
  valSplit: num(0, 0.5).default(0.1),
  /**
   * Early stopping: stop after `patience` epochs in a row without improvement of the validation loss (the training
   * loss without a validation split) and restore the best weights; null = off.
   */
  patience: int(1, EPOCHS_MAX).nullable().default(null),
  /** Seeds the weights' initialisation and the batch order. */
  seed: seed().default(0),
};

export type AutoencoderTrainParams = ParamsOf<typeof TRAINING_PARAMS>;

/** Random rotation and shift of each training batch (models/augment.ts; DEC-DA's ranges are 10° and 0.1). */
export const AUGMENT_PARAMS = {
  /** Largest rotation, ± degrees (0 = none). */
  rotation: num(0, 45).default(0),
  /** Largest shift, ± a fraction of the image's height (vertical) and width (horizontal) (0 = none). */
  shift: num(0, 0.5).default(0),
};

export type AugmentParams = ParamsOf<typeof AUGMENT_PARAMS>;
