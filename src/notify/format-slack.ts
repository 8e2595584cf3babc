// Slack-compatible incoming webhook payload. Legacy `attachments` (colour bar + fields) rather than Block
// Kit: Mattermost and Rocket.Chat accept the same payload, and Slack still renders it.

import type { Message } from './coalesce.ts';

const COLOR = { info: '#2eb67d', warning: '#ecb22e', error: '#e01e5a' } as const;
const ICON = { info: ':information_source:', warning: ':warning:', error: ':x:' } as const;

/** Slack treats &, < and > as control characters in text. */
export const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackPayload(m: Message): unknown {
  const text = `${ICON[m.severity]} ${slackEscape(m.headline)}`;
  const body: string[] = [];
  if (m.error) body.push(`*Error:* ${slackEscape(m.error)}`);
  if (m.items.length > 0) body.push(m.items.map((i) => `• ${slackEscape(i)}`).join('\n'));
  if (m.output) body.push(`\`\`\`\n${slackEscape(m.output)}\n\`\`\``);
  if (m.command) body.push(m.command.split('\n').map((c) => `\`${slackEscape(c)}\``).join('\n'));
  return {
    text,
    attachments: [
      {
        fallback: text,
        color: COLOR[m.severity],
        fields: m.fields.map(([title, value]) => ({ title, value: slackEscape(value), short: value.length <= 40 })),
        ...(body.length > 0 ? { text: body.join('\n') } : {}),
        mrkdwn_in: ['text'],
        ts: Math.floor(Date.parse(m.at) / 1000),
      },
    ],
  };
}
