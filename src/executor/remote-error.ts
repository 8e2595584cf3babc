// One constructor for every executor failure, so the engine can branch on `details.reason` and the
// journal always has host, address and port.
import { errorOfKind, HvrollError, type RemoteReason } from '../model/errors.ts';
import type { RemoteFailureDetails, RemoteFailureReason } from './executor.ts';

/** Failures that may succeed if tried again as-is (the engine still asks the host first: §5 reconcile). */
const RETRYABLE: Record<RemoteFailureReason, boolean> = {
  connect: true,
  'host-key-unknown': false,
  'host-key-changed': false,
  'host-key-revoked': false,
  auth: false,
  channel: true,
  timeout: true,
  aborted: false,
  disconnected: true,
  closed: false,
};

export function remoteError(
  where: { name: string; address: string; port: number },
  reason: RemoteFailureReason,
  message: string,
  extra: Omit<RemoteFailureDetails, 'host' | 'address' | 'port' | 'reason'> = {},
  cause?: unknown,
): HvrollError<'remote'> {
  const details: RemoteFailureDetails = { host: where.name, address: where.address, port: where.port, reason, ...extra };
  return new HvrollError('remote', `${where.name}: ${message}`, { retryable: RETRYABLE[reason], details, cause });
}

/** The failure reason of an executor error, or undefined for anything else. */
export function remoteReason(err: unknown): RemoteReason | undefined {
  return errorOfKind(err, 'remote')?.details?.reason;
}
