import { ValidationError } from '../errors';
import { isValidSpace } from '../model/checks';

/** Which events an archive keeps: by space, and by type (a name, or a prefix ending in `*`). */
export class ArchiveFilter {
  private readonly spaces: ReadonlySet<string> | undefined;
  private readonly types: ReadonlySet<string> | undefined;
  private readonly prefixes: readonly string[];

  constructor(spaces: readonly string[] | undefined, types: readonly string[] | undefined) {
    // An empty list would archive nothing, silently: refused, like any other impossible value.
    if (
      spaces !== undefined &&
      (!Array.isArray(spaces) || spaces.length === 0 || !spaces.every(isValidSpace))
    ) {
      throw new ValidationError('option "spaces" must be a non-empty array of space names.');
    }
    if (
      types !== undefined &&
      (!Array.isArray(types) ||
        types.length === 0 ||
        !types.every((t) => typeof t === 'string' && t !== '' && t !== '*'))
    ) {
      throw new ValidationError(
        'option "types" must be a non-empty array of event types (or prefixes ending in "*").',
      );
    }
    this.spaces = spaces && new Set(spaces);
    this.types = types && new Set(types.filter((t) => !t.endsWith('*')));
    this.prefixes = types?.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1)) ?? [];
  }

  matches(space: string, type: string): boolean {
    if (this.spaces && !this.spaces.has(space)) return false;
    if (!this.types) return true;
    return this.types.has(type) || this.prefixes.some((prefix) => type.startsWith(prefix));
  }
}
