import type { People, ResourceSpec, WorkflowSpec } from './workflow-schema';

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

/** Everything the workflow files say, merged across files and checked for cross-references. */
export interface Policy {
  resources: ReadonlyMap<string, Resource>;
  workflows: ReadonlyMap<string, Workflow>;
  /** Union of every file's `admins`. */
  admins: People;
  /** sha256 over the files' names and bytes, in name order: audited as `config.loaded`. */
  hash: string;
  files: string[];
}
