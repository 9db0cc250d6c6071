import { PeerMissingError } from '../errors';
import { describeError } from './describe-error';

/** What {@link requireOptionalPeer} says when the peer is not installed. */
export interface OptionalPeerUse {
  /** What needs the package, as the message's subject: `ZooKeeperStore`, `kafka connections`. */
  feature: string;
  /**
   * What to `npm install`, a version range included when one matters.
   * @default the package's name
   */
  install?: string;
}

/**
 * An optional peer dependency, required when a feature first needs it (never at import, so that a
 * gateway without that feature never loads it). Not installed: a {@link PeerMissingError} whose
 * message says what needs it and the `npm install` command, with the MODULE_NOT_FOUND as `cause`.
 * Only the package itself being absent counts: a peer that is installed but fails while loading (a
 * dependency of its own missing, a native build for another platform) throws an Error that carries
 * its own message and has it as `cause`, so the real fault is not hidden behind "install it".
 *
 * @example
 * ```ts
 * const zk = requireOptionalPeer<ZkModule>('node-zookeeper-client', { feature: 'ZooKeeperStore' });
 * ```
 */
export function requireOptionalPeer<T>(name: string, use: OptionalPeerUse): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
    return require(name) as T;
  } catch (error) {
    if (isMissing(error, name)) {
      throw new PeerMissingError(
        `${use.feature} needs the package "${name}", which is not installed: npm install ${use.install ?? name}`,
        { cause: error, peer: name },
      );
    }
    throw new Error(`The package "${name}" failed to load: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/**
 * True when the require failed because `name` itself cannot be found (Node's and Jest's messages
 * both start "Cannot find module '<name>'"), not a module that the package requires in turn.
 */
function isMissing(error: unknown, name: string): boolean {
  try {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return (
      code === 'MODULE_NOT_FOUND' &&
      typeof message === 'string' &&
      message.startsWith(`Cannot find module '${name}'`)
    );
  } catch {
    return false;
  }
}
