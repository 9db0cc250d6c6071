import { ValidationError } from '../errors';
import { isValidSpace } from '../model/checks';

/** Which events an archive keeps: by space, and by type (a name, or a prefix ending in `*`). */
export class ArchiveFilter {
  private readonly spaces: ReadonlySet<string> | undefined;
  private readonly types: ReadonlySet<string> | undefined;
  private readonly prefixes: readonly string[];

  constructor(spaces: readonly string[] | undefined, types: readonly string[] | undefined) {
    if (spaces !== undefined && (!Array.isArray(spaces) || !spaces.every(isValidSpace))) {
      throw new ValidationError('option "spaces" must be an array of space names.');
    }
    if (
      types !== undefined &&
      (!Array.isArray(types) || !types.every((t) => typeof t === 'string' && t !== '' && t !== '*'))
    ) {
      throw new ValidationError(
        'option "types" must be an array of event types (or prefixes ending in "*").',
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
