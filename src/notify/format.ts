// One payload builder per target type.

import type { NotifyFormat } from '../model/inventory.ts';
import type { Message } from './coalesce.ts';
import { slackPayload } from './format-slack.ts';
import { teamsPayload } from './format-teams.ts';
import { webhookPayload } from './format-webhook.ts';

export function payloadFor(type: NotifyFormat, m: Message): unknown {
  switch (type) {
    case 'slack':
      return slackPayload(m);
    case 'teams':
      return teamsPayload(m);
    case 'webhook':
      return webhookPayload(m);
  }
}
