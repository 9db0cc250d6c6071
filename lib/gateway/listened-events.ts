import { SYSTEM_EVENT_NAMES } from '../model/system-events';

const SYSTEM_NAMES: readonly string[] = Object.values(SYSTEM_EVENT_NAMES);

/**
 * Which of a gateway's local events have listeners, remembered between `on`/`once`/`off` calls:
 * checked on every delivery step, so that nobody listening costs a map lookup, not a count. A
 * `once` listener that fired leaves a stale `true`: a wasted emit, never a missed one.
 */
export class ListenedEvents {
  private readonly known = new Map<string, boolean>();
  private anySystem: boolean | undefined;

  constructor(private readonly count: (name: string) => number) {}

  /** True when `name` has a listener. */
  has(name: string): boolean {
    let yes = this.known.get(name);
    if (yes === undefined) {
      yes = this.count(name) > 0;
      this.known.set(name, yes);
    }
    return yes;
  }

  /** True when any system event has a listener (checked first, once per delivery step). */
  hasSystem(): boolean {
    return (this.anySystem ??= SYSTEM_NAMES.some((name) => this.has(name)));
  }

  /** Forgets what it knew: listeners were added or removed. */
  changed(): void {
    this.known.clear();
    this.anySystem = undefined;
  }
}
