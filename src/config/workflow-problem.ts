/** One thing wrong with the workflow files, located for the person who edits them. */
export interface WorkflowProblem {
  /** The file as shown to the user (relative to the working directory when inside it). */
  file: string;
  /** 1-based; 0 when the problem concerns the directory rather than a place in a file. */
  line: number;
  /** 1-based; 0 together with line 0. */
  column: number;
  /** Dotted path of the offending field, e.g. `workflows.prod-db.stages.0.approvals`. */
  field?: string;
  message: string;
}

/** `file:line:column field: problem`, the form editors and CI logs link to. */
export function formatProblem(p: WorkflowProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return p.field ? `${where} ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

/** By file, then line, then column: the order a person fixes them in. */
export function compareProblems(a: WorkflowProblem, b: WorkflowProblem): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.field ?? '').localeCompare(b.field ?? '');
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((segment) => String(segment)).join('.');
}
