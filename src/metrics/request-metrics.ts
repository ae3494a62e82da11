import type { Counter, Histogram } from 'prom-client';
import { REQUEST_STATES, type AccessRequest, type RequestState } from '../engine/types';
import type { TransitionObserver } from '../requests/ports';
import { DECISION_BUCKETS, LATENCY_BUCKETS, type MetricsRegistry } from './metrics-registry';

/** From a click to a certificate in the person's DMs: sub-second is the target, minutes is an incident. */
const DELIVERY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300];

/**
 * Requests as an operator watches them: how many are in each state now (read from the state
 * indexes at scrape, so true for the whole installation from any replica), how many entered each
 * state per workflow (counted where the transition commits), how long people take to decide, how
 * long approval to issuance takes, and approval to certificate delivered.
 */
export class RequestMetrics implements TransitionObserver {
  private readonly transitions: Counter<'state' | 'workflow'>;
  private readonly decisions: Histogram<'workflow' | 'decision'>;
  private readonly issuance: Histogram<'workflow'>;
  private readonly delivery: Histogram<'workflow'>;

  constructor(metrics: MetricsRegistry, countByState: (state: RequestState) => Promise<number>, private readonly clock: () => number = Date.now) {
    this.transitions = metrics.counter({
      name: 'request_transitions_total',
      help: 'Requests entering a state (pending, approved, denied, issued, …), by workflow',
      labelNames: ['state', 'workflow'],
    });
    metrics.gauge({
      name: 'requests',
      help: 'Requests in each state now (the whole installation, read from Redis at scrape)',
      labelNames: ['state'],
      collect: async (gauge) => {
        const counts = await Promise.all(REQUEST_STATES.map((state) => countByState(state)));
        REQUEST_STATES.forEach((state, i) => gauge.set({ state }, counts[i]!));
      },
    });
    this.decisions = metrics.histogram({
      name: 'decision_seconds',
      help: 'From request to decision (approved or denied by people), by workflow',
      labelNames: ['workflow', 'decision'],
      buckets: DECISION_BUCKETS,
    });
    this.issuance = metrics.histogram({
      name: 'issuance_seconds',
      help: 'From approval to the certificate signed and committed, by workflow',
      labelNames: ['workflow'],
      buckets: LATENCY_BUCKETS,
    });
    this.delivery = metrics.histogram({
      name: 'click_to_certificate_seconds',
      help: "From the approving click (the approval committed) to the certificate delivered in the requester's DMs, by workflow",
      labelNames: ['workflow'],
      buckets: DELIVERY_BUCKETS,
    });
  }

  transitioned(previous: AccessRequest | undefined, next: AccessRequest, now: number): void {
    if (previous?.state === next.state) return;
    const workflow = next.workflow;
    this.transitions.inc({ state: next.state, workflow });
    if (previous?.state === 'pending' && (next.state === 'approved' || next.state === 'denied'))
      this.decisions.observe({ workflow, decision: next.state }, Math.max(0, now - next.createdAt) / 1000);
    if (next.state === 'issued' && next.approvedAt !== undefined) this.issuance.observe({ workflow }, Math.max(0, now - next.approvedAt) / 1000);
  }

  /** The certificate reached the requester (its DM was posted). */
  certificateDelivered(request: AccessRequest): void {
    if (request.approvedAt === undefined) return;
    this.delivery.observe({ workflow: request.workflow }, Math.max(0, this.clock() - request.approvedAt) / 1000);
  }
}
