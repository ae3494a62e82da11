import type { SimulationResult } from '../../src/engine/simulate';
import { runCli } from '../helpers/cli';

const simulate = (...args: string[]) => runCli(['workflows', 'simulate', '--dir', 'workflows', ...args]);
const json = async (...args: string[]) => {
  const r = await simulate(...args, '--json');
  return { code: r.code, result: JSON.parse(r.stdout) as SimulationResult };
};

describe('access-bot workflows simulate (on the shipped examples)', () => {
  it('shows the approval stages, who approves, escalation and the granted duration', async () => {
    const r = await simulate('--requester', 'jane.doe@example.com', '--groups', 'backend-engineers', '--resource', 'prod-db', '--duration', '2h');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('outcome:    allowed: needs approval');
    expect(r.stdout).toContain('log in as:  jane.doe, postgres-ops');
    expect(r.stdout).toContain('duration:   2h granted, from approval (default 1h, max 4h)');
    expect(r.stdout).toMatch(/stage 1 "backend lead": 1 approval from @backend-leads; reminders from 10m; after 30m: escalate to the next stage/);
    expect(r.stdout).toMatch(/stage 2 "security": 1 approval from S04T8KQ1N2P, U03JZ7P1LMA; .*after 2h: the request times out/);
  });

  it('answers auto-approval for the team within the rule, and approval beyond it', async () => {
    const auto = await json('--requester', 'jane.doe@example.com', '--groups', 'backend-engineers', '--resource', 'staging-app', '--duration', '2h');
    expect(auto).toMatchObject({ code: 0, result: { outcome: 'auto_approved', autoApproveRule: 0, duration: { granted: '2h' }, subject: 'jane.doe, deploy' } });
    const long = await json('--requester', 'jane.doe@example.com', '--groups', 'backend-engineers', '--resource', 'staging-app', '--duration', '6h');
    expect(long.result.outcome).toBe('needs_approval');
  });

  it('refuses a requester outside the workflow, with exit code 1', async () => {
    const r = await json('--requester', 'U0BBBBBBB', '--groups', 'marketing', '--resource', 'prod-db');
    expect(r.code).toBe(1);
    expect(r.result).toMatchObject({ allowed: false, outcome: 'refused', refusal: { code: 'NOT_ELIGIBLE' } });
  });

  it('refuses a duration over the maximum and names the maximum', async () => {
    const r = await simulate('--requester', 'U0AAAAAAA', '--groups', 'backend-engineers', '--resource', 'prod-db', '--duration', '6h');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('REFUSED (DURATION_TOO_LONG): 6h is longer than the maximum of 4h');
  });

  it('checks a reason and ticket when given', async () => {
    const bad = await json('--requester', 'U0AAAAAAA', '--groups', 'backend-engineers', '--resource', 'prod-db', '--reason', 'debugging', '--ticket', 'OPS-1');
    expect(bad.result.refusal?.code).toBe('REASON_INVALID');
    const good = await json(
      '--requester', 'jane.doe@example.com', '--groups', 'backend-engineers', '--resource', 'prod-db',
      '--reason', 'rerun failed billing migration 0042', '--ticket', 'OPS-1',
    );
    expect(good.result.allowed).toBe(true);
  });

  it('with PagerDuty off, never says "available now": says it is not connected, and what would happen once it is', async () => {
    const r = await simulate('--requester', 'U0CCCCCCC', '--groups', 'sre', '--resource', 'prod-root-breakglass', '--oncall', '--incident');
    expect(r.stdout).not.toContain('break-glass: available now');
    expect(r.stdout).toContain('break-glass: not available now: Break-glass needs PagerDuty, which is not connected');
    expect(r.stdout).toContain('once PagerDuty is connected (PAGERDUTY_TOKEN): available, approved at once for this on-call during the incident');
    expect(r.stdout).toContain('outcome:    allowed: needs approval');
    const quiet = await json('--requester', 'U0CCCCCCC', '--groups', 'sre', '--resource', 'prod-root-breakglass', '--oncall');
    expect(quiet.result.breakGlass?.onceConnected).toMatchObject({ available: false, reason: expect.stringMatching(/active PagerDuty incident/) });
  });

  it('answers break-glass with PagerDuty connected: available to the on-call during an incident, not otherwise', async () => {
    const json = async (...args: string[]) => {
      const r = await runCli(['workflows', 'simulate', '--dir', 'workflows', ...args, '--json'], { PAGERDUTY_TOKEN: 'u+simulated' });
      return { code: r.code, result: JSON.parse(r.stdout) as SimulationResult };
    };
    const during = await json('--requester', 'U0CCCCCCC', '--groups', 'sre', '--resource', 'prod-root-breakglass', '--oncall', '--incident');
    expect(during.result).toMatchObject({ outcome: 'break_glass', breakGlass: { available: true } });
    const quiet = await json('--requester', 'U0CCCCCCC', '--groups', 'sre', '--resource', 'prod-root-breakglass', '--oncall');
    expect(quiet.result.breakGlass).toMatchObject({ available: false, reason: expect.stringMatching(/active PagerDuty incident/) });
  });

  it('shows the principals a person would get, and refuses an email that would name a reserved login', async () => {
    const root = await json('--requester', 'root@example.com', '--groups', 'backend-engineers', '--resource', 'staging-app');
    expect(root).toMatchObject({ code: 1, result: { outcome: 'refused', refusal: { code: 'RESERVED_LOGIN' } } });
    const mapped = await simulate('--requester', 'U02H5N8QW3K', '--groups', 'backend-engineers', '--resource', 'staging-app');
    expect(mapped.stdout).toContain('log in as:  priya.nair, deploy');
    const kube = await simulate('--requester', 'jane.doe@example.com', '--groups', 'platform-engineers', '--resource', 'k8s-prod-eu1-edit', '--reason', 'scale the ingress', '--ticket', 'PLAT-1');
    expect(kube.stdout).toContain('subject:    CN=jane.doe@example.com, O=access-bot:prod-eu1-edit');
  });

  it('being on call is not enough to break glass: the requester must be in the workflow', async () => {
    const outsider = await json('--requester', 'U0CCCCCCC', '--resource', 'prod-root-breakglass', '--oncall', '--incident');
    expect(outsider.result).toMatchObject({ outcome: 'refused', breakGlass: { available: false, reason: expect.stringMatching(/not allowed to break glass/) } });
  });

  it('changes nothing: no Redis is needed and the command only reads files', async () => {
    const r = await runCli(['workflows', 'simulate', '--dir', 'workflows', '--requester', 'U0AAAAAAA', '--resource', 'prod-db'], {
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('NOT_ELIGIBLE');
  });

  it('needs --requester and --resource', async () => {
    const r = await runCli(['workflows', 'simulate', '--resource', 'prod-db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--requester and --resource are required/);
  });
});
