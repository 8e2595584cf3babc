// Journal steps the engine writes for its own records (no command behind them), read by status and report.

/** A planned VM confirmed on its target, once per group and VM, however it got there (migrated, found there, leftover removed). */
export const MIGRATE_CONFIRMED = 'migrate:confirmed';
