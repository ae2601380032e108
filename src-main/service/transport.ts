/**
 * What both transports (the desktop's IPC in app/ipc.ts, web mode's socket) do with a call: hand it to the
 * engine's `dispatch`, which validates it against the contract and answers errors as replies. A throw is caught
 * here too, as the last line of defence: nothing a client sends may take a transport down.
 */
import type { ContractError, Operation, Reply } from '../contract/index';
import type { EngineApi } from './api';

export const errorMessage = (err: unknown): string => (err as Error)?.message ?? String(err);

export const failure = (code: ContractError['code'], message: string): Reply<Operation> => ({ ok: false, error: { code, message } });

export async function dispatchSafely(api: EngineApi, op: unknown, payload: unknown): Promise<Reply<Operation>> {
  try {
    return await api.dispatch(op, payload);
  } catch (err) {
    return failure('failed', errorMessage(err));
  }
}
