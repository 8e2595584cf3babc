// The shape of a notification target, in the inventory's `rules.notifications` or a `--notify` file: part of the
// inventory format (src/notify/ reads it, the inventory does not depend on the notifier). Messages never echo
// the URL: it is a secret (a Slack webhook URL is its own credential).

import { z } from 'zod';
import type { NotificationTarget } from '../model/inventory.ts';
import { knownPattern, NOTICE_KINDS } from '../model/notice-kinds.ts';

const ENV_REF = /^env:[A-Za-z_][A-Za-z0-9_]*$/;
const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function fix(ctx: z.core.$RefinementCtx, message: string, hint: string, path: (string | number)[] = []): void {
  ctx.addIssue({ code: 'custom', message, path, params: { fix: hint } });
}

/** `https://…` / `http://…`, or `env:NAME` (read when the campaign runs, so the file need not hold it). */
export const webhookUrl = z.string().superRefine((v, ctx) => {
  if (ENV_REF.test(v)) return;
  let ok = false;
  try {
    const u = new URL(v);
    ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
  } catch {
    ok = false;
  }
  // The value is not repeated: it may be a webhook URL with its secret inside, slightly mistyped.
  if (!ok) fix(ctx, 'url is neither an http(s) URL nor an env: reference (value not shown: it may be a secret)', 'write `url: env:SLACK_WEBHOOK` and export SLACK_WEBHOOK, or give the full https:// URL');
});

export const notificationTarget = z.strictObject({
  name: z.string().superRefine((v, ctx) => {
    if (!TARGET_NAME.test(v)) fix(ctx, `target name "${v.slice(0, 64)}" is not a short name`, 'use letters, digits, dot, dash or underscore, e.g. `name: ops-slack` (it is what logs and the journal show instead of the URL)');
  }),
  type: z.enum(['slack', 'teams', 'webhook']),
  url: webhookUrl,
  events: z
    .array(z.string())
    .default(['*'])
    .superRefine((list, ctx) => {
      list.forEach((p, i) => {
        if (!knownPattern(p)) fix(ctx, `unknown event "${p}"`, `use * , a prefix such as group.*, or one of: ${NOTICE_KINDS.join(', ')}`, [i]);
      });
    }),
  minSeverity: z.enum(['info', 'warning', 'error']).default('info'),
});

export const notificationTargets = z.array(notificationTarget).superRefine((list, ctx) => {
  const seen = new Map<string, number>();
  list.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) fix(ctx, `target name "${t.name}" is used twice (also entry ${first})`, 'give every target its own name', [i, 'name']);
    else seen.set(t.name, i);
  });
}) satisfies z.ZodType<NotificationTarget[], unknown>;
