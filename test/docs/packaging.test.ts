import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The packaging a new team copies: docker-compose.yml and the Slack app manifest, held to what the code does. */

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Service {
  restart?: string;
  command?: string[];
  env_file?: Array<string | { path: string; required?: boolean }>;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

/** The settings the README's Configuration table lists. */
function readmeSettings(): string[] {
  const section = read('README.md').split('## Configuration')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| ((?:`[A-Z][A-Z0-9_]+`(?:, )?)+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((n) => n[1]!));
}

describe('docker-compose.yml', () => {
  test('every service restarts unless stopped', () => {
    for (const [name, service] of Object.entries(compose.services)) expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
  });

  test('bot and worker read every README setting from .env, and nothing in the file blanks one out by accident', () => {
    const settings = readmeSettings();
    expect(settings).toEqual(expect.arrayContaining(['REDIS_URL', 'SLACK_BOT_TOKEN', 'PUBLIC_URL', 'KRL_REFRESH_INTERVAL', 'LOG_FORMAT']));
    for (const name of ['bot', 'worker']) {
      const service = compose.services[name]!;
      expect(service.env_file).toEqual([{ path: '.env', required: false }]);
      // What the file sets itself is wiring (addresses inside the compose network), never a `${X:-}` pass-through
      // that would turn an unset shell variable into an empty setting over the .env value.
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        expect({ key, value }).not.toEqual({ key, value: expect.stringMatching(new RegExp(`^\\$\\{${key}:-\\}$`)) });
      }
    }
  });

  test('the JSON-lines audit file is written in one place, onto a volume', () => {
    const writers = Object.entries(compose.services).filter(([, s]) => (s.environment?.AUDIT_LOG_FILE ?? '') !== '');
    expect(writers.map(([name]) => name)).toEqual(['worker']);
    const file = writers[0]![1].environment!.AUDIT_LOG_FILE!;
    const dir = file.slice(0, file.lastIndexOf('/'));
    const mount = writers[0]![1].volumes!.find((v) => v.split(':')[1] === dir);
    expect(mount).toBe('audit:/audit');
    expect(compose.volumes).toHaveProperty('audit');
    // The bot says explicitly it writes none, whatever .env says.
    expect(compose.services.bot!.environment!.AUDIT_LOG_FILE).toBe('');
    // The image gives the volume's mount point to the unprivileged user the processes run as.
    expect(read('Dockerfile')).toMatch(/mkdir -p \/audit && chown accessbot \/audit/);
  });

  test('bot and worker have health checks on their own HTTP ports', () => {
    const bot = compose.services.bot!;
    expect(bot.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${bot.environment!.PORT}/readyz`);
    const worker = compose.services.worker!;
    expect(worker.environment!.WORKER_PORT).toBe('3001');
    expect(worker.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${worker.environment!.WORKER_PORT}/readyz`);
  });

  test('only the worker mounts the CA', () => {
    const mounting = Object.entries(compose.services).filter(([, s]) => (s.volumes ?? []).some((v) => v.startsWith('ca:')));
    expect(mounting.map(([name]) => name)).toEqual(['worker']);
  });
});

describe('the Slack app manifest', () => {
  const manifestText = read('docs/slack-app-manifest.yml');
  const manifest = parse(manifestText) as { oauth_config: { scopes: { bot: string[] } } };
  const scopes = manifest.oauth_config.scopes.bot;

  /** Which bot scope each Web API method needs (https://docs.slack.dev/reference/methods). */
  const SCOPE_OF: Record<string, string | null> = {
    'chat.postMessage': 'chat:write',
    'chat.update': 'chat:write',
    'chat.postEphemeral': 'chat:write',
    'conversations.open': 'im:write',
    'users.info': 'users:read',
    'users.lookupByEmail': 'users:read.email',
    'usergroups.list': 'usergroups:read',
    'usergroups.users.list': 'usergroups:read',
    'views.open': null,
    'views.update': null,
    'views.publish': null,
    'auth.test': null,
    'chat.getPermalink': null, // the Jira issue links back to the approval message; Slack asks no scope for it
  };

  function sourceFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
    });
  }

  const methods = new Set<string>();
  // Jira's and PagerDuty's clients are called `client` too; their methods are not Slack's.
  const otherServices = [join(ROOT, 'src', 'jira'), join(ROOT, 'src', 'pagerduty')];
  for (const file of sourceFiles(join(ROOT, 'src')).filter((f) => !otherServices.some((dir) => f.startsWith(dir)))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bclient\.((?:chat|conversations|users|usergroups|views|reactions|auth|team|bots|pins|files|reminders|dnd)(?:\.[a-zA-Z]+)+)\(/g)) methods.add(m[1]!);
  }

  test('every Slack method the code calls is known here (a new one needs its scope added to the manifest)', () => {
    expect(methods.size).toBeGreaterThan(5);
    for (const method of methods) expect({ method, known: method in SCOPE_OF }).toEqual({ method, known: true });
  });

  test('asks for exactly the scopes those methods need, plus the slash command', () => {
    const needed = new Set(['commands', ...[...methods].map((m) => SCOPE_OF[m]).filter((s): s is string => typeof s === 'string')]);
    expect([...scopes].sort()).toEqual([...needed].sort());
    expect(scopes).not.toContain('reactions:write');
  });

  test('each scope has a comment above it saying why; users:read.email says it is for login names and certificates', () => {
    const lines = manifestText.split('\n');
    for (const scope of scopes) {
      const at = lines.findIndex((l) => l.trim() === `- ${scope}`);
      expect({ scope, comment: lines[at - 1]?.trim().startsWith('#') }).toEqual({ scope, comment: true });
    }
    const emailComment = manifestText.slice(manifestText.indexOf('# The email in users.info'), manifestText.indexOf('- users:read.email'));
    expect(emailComment).toMatch(/Login names/);
    expect(emailComment).toMatch(/certificate/);
  });
});
