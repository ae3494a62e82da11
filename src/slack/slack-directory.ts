import { z } from 'zod';
import type { Approvers } from '../config/workflow-schema';
import type { Actor } from '../engine/types';
import type { Logger } from '../log/logger';
import type { Directory, OnCall } from '../requests/ports';
import { SlackApiError } from './errors/slack-api-error';
import { callSlack, type WebClient } from './slack-web-api';
import { TtlCache } from './ttl-cache';

export const DEFAULT_DIRECTORY_TTL_MS = 60_000;

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const SLACK_GROUP_ID = /^S[A-Z0-9]{2,}$/;

const UserSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  real_name: z.string().optional(),
  deleted: z.boolean().optional(),
  is_bot: z.boolean().optional(),
  is_restricted: z.boolean().optional(),
  is_email_confirmed: z.boolean().optional(),
  is_ultra_restricted: z.boolean().optional(),
  profile: z
    .object({
      email: z.string().optional(),
      display_name: z.string().optional(),
      real_name: z.string().optional(),
    })
    .optional(),
});
const UserResponse = z.object({ user: UserSchema });
const UsergroupsResponse = z.object({
  usergroups: z.array(z.object({ id: z.string(), handle: z.string().optional(), users: z.array(z.string()).optional() })),
});
const UsergroupUsersResponse = z.object({ users: z.array(z.string()) });

type SlackUser = z.output<typeof UserSchema>;

/** An actor as Slack knows them: deactivated users and bots are `inactive` (no groups; the engine refuses them), guests are flagged. */
export type SlackActor = Actor;

interface Usergroup {
  id: string;
  handle: string;
  users: string[];
}

export interface SlackDirectoryOptions {
  /** Bolt's `app.client` in the bot, a plain WebClient in the worker. */
  client: WebClient;
  /** Resolves `pagerduty_oncall` approvers to emails. */
  oncall: OnCall;
  logger: Logger;
  /** How long lookups are reused; default 60 s. */
  ttlMs?: number;
  /** How long an on-call set is reused. Default 0: resolved at the moment a stage starts or escalates (concurrent lookups still share one call). */
  oncallTtlMs?: number;
  clock?: () => number;
}

function parse<T>(method: string, schema: z.ZodType<T>, response: unknown): T {
  const parsed = schema.safeParse(response);
  if (!parsed.success) throw new SlackApiError(method, 'unexpected_response');
  return parsed.data;
}

/**
 * Who people are, from Slack: `users.info` for email and name, `usergroups.list` (with members; one
 * call serves every user) for group membership, `users.lookupByEmail` and `usergroups.users.list`
 * to resolve approver sets, and the on-call port for `pagerduty_oncall`. Every lookup is cached in
 * this process for a short TTL, so a burst of clicks costs one call per user.
 */
export class SlackDirectory implements Directory {
  private readonly client: WebClient;
  private readonly oncall: OnCall;
  private readonly logger: Logger;
  private readonly users: TtlCache<string, SlackUser>;
  private readonly byEmail: TtlCache<string, SlackUser | undefined>;
  private readonly groups: TtlCache<'all', Usergroup[]>;
  private readonly members: TtlCache<string, string[] | undefined>;
  private readonly oncallEmails: TtlCache<string, string[]>;

  constructor(options: SlackDirectoryOptions) {
    this.client = options.client;
    this.oncall = options.oncall;
    this.logger = options.logger.child({ component: 'slack-directory' });
    const ttl = options.ttlMs ?? DEFAULT_DIRECTORY_TTL_MS;
    const clock = options.clock ?? Date.now;
    this.users = new TtlCache(ttl, clock);
    this.byEmail = new TtlCache(ttl, clock);
    this.groups = new TtlCache(ttl, clock);
    this.members = new TtlCache(ttl, clock);
    this.oncallEmails = new TtlCache(options.oncallTtlMs ?? 0, clock);
  }

  forget(userId: string): void {
    this.users.delete(userId);
  }

  async actor(userId: string): Promise<SlackActor> {
    // Ids from other channels (cli:root, system) are not Slack users: nothing to look up.
    if (!SLACK_USER_ID.test(userId)) return { id: userId, groups: [] };
    const user = await this.user(userId);
    const email = user.profile?.email;
    const name = user.profile?.display_name || user.profile?.real_name || user.real_name || user.name;
    const guest = user.is_restricted === true || user.is_ultra_restricted === true;
    const base: SlackActor = {
      id: user.id,
      groups: [],
      ...(email ? { email } : {}),
      // Only Slack's own confirmation makes an email an identity (login names, approver matching).
      ...(email && user.is_email_confirmed === true ? { emailVerified: true } : {}),
      ...(name ? { name } : {}),
      ...(guest ? { guest } : {}),
    };
    if (user.deleted) return { ...base, inactive: 'deleted' };
    if (user.is_bot) return { ...base, inactive: 'bot' };
    const groups = (await this.usergroups()).filter((g) => g.users.includes(user.id));
    // Ids exactly as Slack gives them, handles in lowercase: a handle can then never look like an id.
    return { ...base, groups: groups.flatMap((g) => (g.handle ? [g.id, g.handle.toLowerCase()] : [g.id])) };
  }

  async resolveApprovers(approvers: Approvers): Promise<string[]> {
    const ids = new Set<string>();
    for (const ref of approvers.users ?? []) {
      if (!ref.includes('@')) ids.add(ref);
      else {
        const id = await this.userIdByEmail(ref);
        if (id) ids.add(id);
      }
    }
    for (const ref of approvers.slack_groups ?? []) {
      for (const id of await this.groupMembers(ref)) ids.add(id);
    }
    const oncall = approvers.pagerduty_oncall;
    if (oncall) {
      if (!this.oncall.enabled) {
        this.logger.warn({ escalationPolicy: oncall.escalation_policy }, 'approvers name a PagerDuty on-call, but PagerDuty is off');
      } else {
        const key = `${oncall.escalation_policy}:${oncall.levels.join(',')}`;
        const emails = await this.oncallEmails.get(key, () => this.oncall.oncallEmails(oncall.escalation_policy, oncall.levels));
        for (const email of emails) {
          const id = await this.userIdByEmail(email);
          if (id) ids.add(id);
        }
      }
    }
    if (ids.size === 0) this.logger.warn({ approvers }, 'approver set resolves to nobody: requests will wait until it changes or time out');
    return [...ids];
  }

  /** The Slack user with this email, or undefined (logged) when there is none or they are deactivated. */
  async userIdByEmail(email: string): Promise<string | undefined> {
    const user = await this.byEmail.get(email.toLowerCase(), async () => {
      try {
        const response = await callSlack('users.lookupByEmail', () => this.client.users.lookupByEmail({ email }));
        return parse('users.lookupByEmail', UserResponse, response).user;
      } catch (err) {
        if (err instanceof SlackApiError && err.slackError === 'users_not_found') return undefined;
        throw err;
      }
    });
    if (!user) {
      this.logger.warn({ email }, 'no Slack user has this email');
      return undefined;
    }
    if (user.deleted || user.is_bot) {
      this.logger.warn({ email, userId: user.id }, 'the Slack user with this email is deactivated or a bot; not an approver');
      return undefined;
    }
    if (user.is_email_confirmed === false) {
      this.logger.warn({ email, userId: user.id }, 'the Slack user with this email has not confirmed it; not taken as that person');
      return undefined;
    }
    return user.id;
  }

  /** Members of a user group given by id (S…) or handle (with or without @); empty (logged) when the group does not exist. */
  async groupMembers(ref: string): Promise<string[]> {
    const wanted = ref.replace(/^@/, '');
    let id: string | undefined = SLACK_GROUP_ID.test(wanted) ? wanted : undefined;
    if (id === undefined) {
      id = (await this.usergroups()).find((g) => g.handle.toLowerCase() === wanted.toLowerCase())?.id;
    }
    if (id === undefined) {
      this.logger.warn({ group: ref }, 'no Slack user group has this handle');
      return [];
    }
    const groupId = id;
    const members = await this.members.get(groupId, async () => {
      try {
        const response = await callSlack('usergroups.users.list', () => this.client.usergroups.users.list({ usergroup: groupId }));
        return parse('usergroups.users.list', UsergroupUsersResponse, response).users;
      } catch (err) {
        if (err instanceof SlackApiError && err.slackError === 'no_such_subteam') return undefined;
        throw err;
      }
    });
    if (!members) {
      this.logger.warn({ group: ref }, 'no Slack user group has this id');
      return [];
    }
    return members;
  }

  /** Every user group's id → handle, from the same cached usergroups.list as group membership. */
  async groupHandles(): Promise<ReadonlyMap<string, string>> {
    return new Map((await this.usergroups()).filter((g) => g.handle !== '').map((g) => [g.id, g.handle]));
  }

  private user(userId: string): Promise<SlackUser> {
    return this.users.get(userId, async () => {
      const response = await callSlack('users.info', () => this.client.users.info({ user: userId }));
      return parse('users.info', UserResponse, response).user;
    });
  }

  private usergroups(): Promise<Usergroup[]> {
    return this.groups.get('all', async () => {
      const response = await callSlack('usergroups.list', () => this.client.usergroups.list({ include_users: true }));
      return parse('usergroups.list', UsergroupsResponse, response).usergroups.map((g) => ({
        id: g.id,
        handle: g.handle ?? '',
        users: g.users ?? [],
      }));
    });
  }
}
