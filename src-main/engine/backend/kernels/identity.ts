import { kernel, type KernelArgs, type TensorInfo } from './support';

/**
 * Identity for the wasm backend: tfjs clones every tensor that a gradient will need (engine.clone → Identity), and the wasm Identity copies the
 * data (~3.5 ms per training step here). Tensors are immutable, so, as the cpu backend does, the clone shares
 * the data and only takes a reference.
 */
export function identity(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return kernel('Identity')(args) as TensorInfo;
  (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
