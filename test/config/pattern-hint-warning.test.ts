import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';

/** Requesters never see a regular expression, so a pattern without a hint leaves them guessing: `workflows check` says so. */
it('workflows check warns about a reason or ticket pattern without a hint, at its line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hint-'));
  writeFileSync(
    join(dir, 'w.yaml'),
    [
      'resources:',
      '  box: { description: box, workflow: w, duration: { default: 1h, max: 2h }, ssh: { principals: [ops] } }',
      'workflows:',
      '  w:',
      '    requesters: { everyone: true }',
      "    reason: { required: true, pattern: '^\\S+ \\S+' }",
      "    ticket: { required: true, pattern: '^OPS-[0-9]+$', hint: A Jira key such as OPS-1234 }",
      '    stages: [{ name: s, approvers: { users: [U0LEAD] } }]',
      '',
    ].join('\n'),
  );
  const r = await runCli(['workflows', 'check', dir]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/warning: .*w\.yaml:6:\d+ workflows\.w\.reason\.pattern: a reason pattern without a hint: requesters are never shown the regular expression/);
  expect(r.stdout).not.toContain('ticket.pattern');
});
