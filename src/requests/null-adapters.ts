import type { AccessRequest, Actor, RequesterNotice } from '../engine/types';
import type { Logger } from '../log/logger';
import type { Notifier, OnCall } from './ports';

/** PagerDuty off: nobody is on call, no incidents; break-glass is refused with that reason. */
export class NoOnCall implements OnCall {
  readonly enabled = false;
  async servicesOnCallFor(_actor: Actor): Promise<string[]> {
    return [];
  }
  async activeIncidents(_services: string[]): Promise<{ id: string; service: string }[]> {
    return [];
  }
  async oncallEmails(_policy: string, _levels: number[]): Promise<string[]> {
    return [];
  }
}

/** Slack off: notifications go to the log so an operator still sees what would have been sent. */
export class LogNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}
  async approvers(request: AccessRequest, stage: number, reason: string): Promise<void> {
    this.logger.info({ requestId: request.id, stage, reason, approvers: request.approvers }, 'would notify approvers (Slack is off)');
  }
  async updateApprovalMessages(request: AccessRequest): Promise<void> {
    this.logger.debug({ requestId: request.id, state: request.state }, 'would update approval messages (Slack is off)');
  }
  async requester(request: AccessRequest, notice: RequesterNotice): Promise<void> {
    this.logger.info({ requestId: request.id, requester: request.requester.id, notice }, 'would notify requester (Slack is off)');
  }
  async breakGlass(request: AccessRequest): Promise<void> {
    this.logger.warn({ requestId: request.id, requester: request.requester.id }, 'break-glass used (Slack is off)');
  }
}
