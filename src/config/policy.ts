import type { AccessReviewSpec, People, ResourceSpec, WorkflowSpec } from './workflow-schema';

/** Where a definition came from, for error messages and `workflows check`. */
export interface SourceRef {
  file: string;
  line: number;
}

export interface Resource extends ResourceSpec {
  name: string;
  source: SourceRef;
}

export interface Workflow extends WorkflowSpec {
  name: string;
  source: SourceRef;
}

export interface AccessReview extends AccessReviewSpec {
  name: string;
  source: SourceRef;
}

/** Everything the workflow files say, merged across files and checked for cross-references. */
export interface Policy {
  resources: ReadonlyMap<string, Resource>;
  workflows: ReadonlyMap<string, Workflow>;
  /** Union of every file's `admins`. */
  admins: People;
  /** Slack user id → login name, from every file's `identities`: wins over the email. */
  identities: ReadonlyMap<string, string>;
  /** Email domains whose (verified) addresses may become login names and certificate subjects; empty: none. */
  allowedEmailDomains: readonly string[];
  /** Login names a template may never render to (built-in system accounts plus every file's `reserved_logins`). */
  reservedLogins: ReadonlySet<string>;
  /** Periodic access reviews (`reviews:`), by name. */
  reviews?: ReadonlyMap<string, AccessReview>;
  /** sha256 over the files' names and bytes, in name order: audited as `config.loaded`. */
  hash: string;
  files: string[];
  /** `workflows check` warnings (valid, but probably not meant): logged at start. */
  warnings?: string[];
}
