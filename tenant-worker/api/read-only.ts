/** After a subscription ended the tenant's data may be read but not changed (ceilings.readOnly). */
import { RemoteError } from '../../protocol/index.js';
import type { HandlerContext } from '../handlers.js';

export function refuseWhenReadOnly(context: HandlerContext): void {
  if (context.ceilings?.readOnly) throw new RemoteError('read_only', 'Your subscription has ended: your data is read-only until you subscribe again.');
}
