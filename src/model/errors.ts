// Errors are values: a kind an operator (and a script) can act on, a message, and details that survive JSON.

export type ErrorKind =
  | 'usage' // wrong command line
  | 'invalid-input' // inventory, rules, runbook or plan file is wrong
  | 'infeasible-plan' // valid input, but no plan satisfies the rules
  | 'stale-plan' // plan fingerprint no longer matches its inputs
  | 'store' // campaign store missing, corrupt, or locked
  | 'remote' // a command on a host failed
  | 'campaign-failed' // the campaign ran, but groups failed (or the failure budget stopped it)
  | 'campaign-aborted' // an operator aborted the campaign
  | 'internal'; // a bug in hvroll

/** One problem in an input file, precise enough to fix without reading code. */
export interface InputIssue {
  file: string;
  /** Path inside the document, e.g. `vms[12].host`; empty for the whole file. */
  path: string;
  line?: number;
  column?: number;
  message: string;
  fix: string;
}

export interface ErrorRecord {
  kind: ErrorKind;
  message: string;
  retryable: boolean;
  details?: unknown;
}

export class HvrollError extends Error {
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly details?: unknown;

  constructor(kind: ErrorKind, message: string, options: { retryable?: boolean; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HvrollError';
    this.kind = kind;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  /** `Error` serialises to `{}`; this is what enters machine context, the store and logs. */
  toRecord(): ErrorRecord {
    return { kind: this.kind, message: this.message, retryable: this.retryable, details: this.details };
  }
}

export class InputError extends HvrollError {
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[], headline?: string) {
    super('invalid-input', headline ?? `${issues.length} problem${issues.length === 1 ? '' : 's'} in the input`, { details: issues });
    this.issues = issues;
  }
}

/** Exit codes scripts can rely on (documented in README). */
export const EXIT_CODE: Record<ErrorKind | 'ok', number> = {
  ok: 0,
  internal: 1,
  usage: 2,
  'invalid-input': 2,
  'infeasible-plan': 3,
  'stale-plan': 4,
  store: 5,
  remote: 6,
  'campaign-failed': 7,
  'campaign-aborted': 8,
};

export function formatIssue(issue: InputIssue): string {
  const where = [issue.file, issue.line, issue.line === undefined ? undefined : issue.column].filter((x) => x !== undefined).join(':');
  const path = issue.path ? ` ${issue.path}:` : '';
  return `${where}${path} ${issue.message}\n    fix: ${issue.fix}`;
}
