// Microsoft Teams incoming webhook / Workflows payload: a message carrying one Adaptive Card (headline,
// a FactSet of the fields, then the details).

import type { Message } from './coalesce.ts';

const COLOR = { info: 'Good', warning: 'Warning', error: 'Attention' } as const;

export function teamsPayload(m: Message): unknown {
  const body: unknown[] = [
    { type: 'TextBlock', text: m.headline, weight: 'Bolder', size: 'Medium', color: COLOR[m.severity], wrap: true },
    { type: 'FactSet', facts: m.fields.map(([title, value]) => ({ title, value })) },
  ];
  if (m.error) body.push({ type: 'TextBlock', text: `Error: ${m.error}`, wrap: true, color: 'Attention' });
  if (m.items.length > 0) body.push({ type: 'TextBlock', text: m.items.map((i) => `- ${i}`).join('\n'), wrap: true });
  if (m.output) body.push({ type: 'TextBlock', text: m.output, fontType: 'Monospace', wrap: true, isSubtle: true });
  if (m.command) body.push({ type: 'TextBlock', text: m.command, fontType: 'Monospace', wrap: true });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body },
      },
    ],
  };
}
