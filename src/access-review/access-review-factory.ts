import type { AppContext } from '../app/app-context';
import type { AuditEvent } from '../audit/audit-event';
import { PostgresAuditArchive } from '../audit/postgres/postgres-audit-archive';
import { AccessReviewService } from './access-review-service';

/** The access review service of a process, reading the archive when there is one. */
export function accessReviewService(ctx: AppContext): AccessReviewService {
  const url = ctx.env.AUDIT_DATABASE_URL;
  return new AccessReviewService({
    redis: ctx.redis,
    keys: ctx.keys,
    audit: ctx.audit,
    policy: () => ctx.policy,
    directory: { actor: (id) => ctx.directory.actor(id), resolveApprovers: (a) => ctx.directory.resolveApprovers(a) },
    poster: () => ctx.reviewPoster,
    events: url ? () => archiveEvents(url) : () => ctx.audit.read(),
    logger: ctx.logger,
  });
}

async function* archiveEvents(url: string): AsyncGenerator<AuditEvent> {
  const archive = new PostgresAuditArchive(url, { max: 1 });
  try {
    yield* archive.read();
  } finally {
    await archive.close();
  }
}
