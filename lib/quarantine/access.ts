import { QuarantineForbiddenError } from './errors.ts';

/** Who is acting: a name for the audit log and the console role that decides what they may do. */
export interface Actor {
  by: string;
  role: 'viewer' | 'operator';
}

/**
 * Refuses an action to anyone but an operator (re-drive, cancel, discard, export).
 *
 * @throws QuarantineForbiddenError (403) naming the action and how to get the role.
 */
export function requireOperator(actor: Actor, what: string): void {
  if (actor.role !== 'operator') {
    throw new QuarantineForbiddenError(
      'forbidden',
      `${what} needs the operator role; sign in with the operator password.`,
    );
  }
}
