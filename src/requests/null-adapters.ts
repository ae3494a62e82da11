import type { AccessRequest, Actor, IncidentFact, OnCallFact, RequesterNotice } from '../engine/types';
import type { Logger } from '../log/logger';
import type { Notifier, OnCall, OnCallContext } from './ports';

/** PagerDuty off: nobody is on call, no incidents; break-glass is refused with that reason. */
export class NoOnCall implements OnCall {
  readonly enabled: boolean = false;
  async oncallFor(_actor: Actor, _services: string[]): Promise<OnCallFact[]> {
    return [];
  }
  async activeIncidents(_services: string[]): Promise<IncidentFact[]> {
    return [];
  }
  async oncallEmails(_policy: string, _levels: number[]): Promise<string[]> {
    return [];
  }
  async incident(_id: string): Promise<IncidentFact | undefined> {
    return undefined;
  }
  async context(service: string): Promise<OnCallContext> {
    return { service, oncall: [], incidents: [] };
  }
  async postNote(_incidentId: string, _content: string): Promise<void> {}
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
  async breakGlassReview(request: AccessRequest, phase: string, n?: number): Promise<void> {
    this.logger.warn({ requestId: request.id, phase, n }, 'post-incident review (Slack is off)');
  }
  async direct(userId: string, text: string): Promise<void> {
    this.logger.info({ userId, text }, 'would send a direct message (Slack is off)');
  }
}
