import { AccessBotError } from '../../../errors/access-bot-error';

/** `system:masters` (Kubernetes cluster-admin that RBAC cannot take away) was asked for without the resource naming it explicitly. */
export class X509SystemMastersRefusedError extends AccessBotError {
  readonly code = 'X509_SYSTEM_MASTERS_REFUSED';
  override readonly status = 403;
}
