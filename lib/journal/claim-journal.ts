import { ValidationError } from '../errors';
import type { Journal } from './journal';

/** Journals a gateway was given: each is opened, and closed, by that gateway alone. */
const claimed = new WeakSet<Journal>();

/**
 * Claims a journal for the gateway being created, or throws ValidationError when another gateway
 * was given it (even one closed since: a journal is opened once). Two gateways on one journal
 * object would share its directory's lock, and the second one's close() would close the first
 * one's journal under it: the first would refuse every emit while its health said ready.
 * @example
 * ```ts
 * if (options.journal) claimJournal(options.journal); // in the gateway's constructor
 * ```
 */
export function claimJournal(journal: Journal): void {
  if (claimed.has(journal)) {
    throw new ValidationError(
      'createGateway: option "journal" was given to another gateway; give each gateway its own journal object.',
    );
  }
  claimed.add(journal);
}
