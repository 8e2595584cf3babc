// Errors are values: a kind an operator (and a script) can act on, a message, and details that survive JSON.
// The details are typed per kind (ErrorDetailsByKind): `errorOfKind(e, 'remote')?.details?.reason` reads them
// without a cast, and a record in a snapshot or the journal (ErrorRecord) keeps the same pairing.

import type { CommandResult, RemoteFailureReason } from './remote.ts';

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

/** What to do about it, in words; `hvroll` prints it under the message. */
export interface FixDetails {
  fix?: string;
}

export interface UsageDetails extends FixDetails {
  /** A file the operator named that cannot be used (an --out path). */
  path?: string;
  campaignId?: string;
}

/** A runbook or plan that cannot be used as it is, found while using it (not while loading it: that is InputIssue[]). */
export interface InputUseDetails extends FixDetails {
  /** A placeholder without a value, or a filter that does not exist. */
  placeholder?: string;
  filter?: string;
  /** A command's `on:` role that names no host here. */
  on?: string;
  host?: string;
  vm?: string;
  vms?: string[];
  /** Runbook steps a group needs that the runbook lacks. */
  missing?: string[];
  reason?: 'nul-in-argument';
}

export interface StalePlanDetails extends FixDetails {
  /** The plan file (or the store's plan.json) that was refused. */
  file: string;
  /** Fingerprint: recorded in the plan, and computed from its inputs now. */
  planned?: string;
  now?: string;
  /** Planned again: the first differing JSON path, and both values. */
  path?: string;
  planFile?: unknown;
  inputs?: unknown;
}

export interface StoreDetails extends FixDetails {
  dir?: string;
  file?: string;
  /** What is wrong with a damaged file, and where. */
  problem?: string;
  offset?: number;
  line?: number;
  missing?: string[];
  /** A filesystem fault: its errno code and what the store was doing. */
  code?: string;
  doing?: string;
  noLock?: boolean;
  lockFile?: string;
  /** The lock (or locks) involved, as the store describes them: for the operator and --json, not for code. */
  lock?: unknown;
  mine?: unknown;
  current?: unknown;
  before?: unknown;
  after?: unknown;
  /** Parts of an audit that could not be read. */
  problems?: string[];
}

/** Why a remote step failed: an executor failure (RemoteFailureReason), or the engine's own verdict. */
export type RemoteReason = RemoteFailureReason | 'requirement' | 'sudo' | 'no-progress';

export interface Size {
  memoryMiB: number;
  vcpus: number;
}

/** A target without room for what the plan sends there (engine/target-room.ts). */
export interface TargetShortage {
  host: string;
  capacity: Size;
  used: Size;
  vms: number;
  unplanned: string[];
  incoming: { group: string; vms: number; size: Size }[];
}

export interface RemoteDetails extends FixDetails {
  /** The host it happened on (for a migration: the VM's source). */
  host?: string;
  address?: string;
  port?: number;
  /** Several hosts: a step that failed on more than one, targets that could not be read. */
  hosts?: string[];
  vm?: string;
  vms?: string[];
  /** The runbook step. */
  step?: string;
  exitCode?: number | null;
  reason?: RemoteReason;
  argv?: string[];
  /** Output seen before a timeout/abort/disconnect (executor failures). */
  result?: CommandResult;
  /** SHA256 fingerprint of the key the host presented (host-key failures). */
  fingerprint?: string;
  /** Connect failures: attempts waited for and how long. */
  attempts?: number;
  elapsedMs?: number;
  /** A step past its deadline: the deadline (ISO). */
  deadline?: string;
  /** A requirement that does not hold: its name, what was seen, and another campaign's disable found there. */
  requirement?: string;
  seen?: string;
  otherCampaign?: string;
  /** VMs a host runs that the plan does not know. */
  unknown?: string[];
  bootId?: string;
  /** A migration aborted for making no progress: what was left to copy. */
  remainingMiB?: number;
  targets?: TargetShortage[];
  /** What a discovery printed that could not be read. */
  output?: string;
  item?: unknown;
}

/** The details each kind of error carries. */
export interface ErrorDetailsByKind {
  usage: UsageDetails;
  'invalid-input': InputIssue[] | InputUseDetails;
  'infeasible-plan': FixDetails;
  'stale-plan': StalePlanDetails;
  store: StoreDetails;
  remote: RemoteDetails;
  /** The message says it all (which groups, and where to look). */
  'campaign-failed': never;
  'campaign-aborted': never;
  internal: never;
}

export type ErrorDetails<K extends ErrorKind = ErrorKind> = ErrorDetailsByKind[K];

/** An error as it enters machine context, the store and logs (`Error` serialises to `{}`). */
export type ErrorRecord = { [K in ErrorKind]: { kind: K; message: string; retryable: boolean; details?: ErrorDetails<K> } }[ErrorKind];

export interface HvrollErrorOptions<K extends ErrorKind> {
  retryable?: boolean;
  details?: ErrorDetails<K>;
  cause?: unknown;
}

/** An HvrollError of one kind: its details are that kind's. */
export interface HvrollErrorOf<K extends ErrorKind> extends Error {
  readonly kind: K;
  readonly retryable: boolean;
  readonly details?: ErrorDetails<K>;
  /** `Error` serialises to `{}`; this is what enters machine context, the store and logs. */
  toRecord(): ErrorRecord;
}

/** An HvrollError of any of `K` (default every kind): a union, so `e.kind === 'remote'` types `e.details`. */
export type HvrollError<K extends ErrorKind = ErrorKind> = { [P in K]: HvrollErrorOf<P> }[K];

class HvrollErrorClass extends Error {
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly details?: ErrorDetails;

  constructor(kind: ErrorKind, message: string, options: HvrollErrorOptions<ErrorKind> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HvrollError';
    this.kind = kind;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toRecord(): ErrorRecord {
    // The constructor's signature (below) pairs kind and details; the record keeps the pair.
    return { kind: this.kind, message: this.message, retryable: this.retryable, details: this.details } as ErrorRecord;
  }
}

/**
 * `new HvrollError('remote', message, { details })` checks the details against the kind's; `e instanceof
 * HvrollError` gives the union of every kind's error, which `e.kind` narrows.
 */
export const HvrollError = HvrollErrorClass as unknown as {
  new <K extends ErrorKind>(kind: K, message: string, options?: HvrollErrorOptions<K>): HvrollError<K>;
  readonly prototype: HvrollError;
};

/** `e` as an HvrollError of `kind` (its details typed), or undefined. */
export function errorOfKind<K extends ErrorKind>(e: unknown, kind: K): HvrollError<K> | undefined {
  return e instanceof HvrollError && e.kind === kind ? (e as HvrollError<K>) : undefined;
}

/** The details of a record of `kind`, typed; undefined for a record of another kind. */
export function recordDetails<K extends ErrorKind>(r: ErrorRecord | null | undefined, kind: K): ErrorDetails<K> | undefined {
  return r?.kind === kind ? (r.details as ErrorDetails<K> | undefined) : undefined;
}

/** The fix an error's details give, if any. */
export function fixOf(e: HvrollError): string | undefined {
  const d = e.details;
  return d === undefined || Array.isArray(d) ? undefined : d.fix;
}

export class InputError extends HvrollError<'invalid-input'> {
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
