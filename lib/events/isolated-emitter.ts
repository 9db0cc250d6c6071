import { EventEmitter } from 'eventemitter3';
import { describeError } from '../model/describe-error';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listeners of any event
type Listener = (...args: any[]) => unknown;

/**
 * An eventemitter3 emitter whose listeners cannot hurt the emitter: a listener that throws, or
 * returns a promise that rejects, is reported through `failed` and the other listeners still
 * run. The gateway emits from inside deliveries and store callbacks, where a listener's throw
 * would otherwise escape into a promise chain nobody awaits and end the host's process.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an interface of tuples
export class IsolatedEmitter<Events extends { [K in keyof Events]: any[] }> {
  private readonly inner = new EventEmitter();
  /** The wrapper registered for each listener, by event name (a listener may be added twice). */
  private readonly wrappers = new WeakMap<Listener, Map<string, Listener[]>>();

  constructor(private readonly failed: (name: string, error: unknown) => void) {}

  on<K extends keyof Events & string>(name: K, listener: (...args: Events[K]) => void): void {
    this.inner.on(name, this.register(name, listener as Listener, false));
  }

  once<K extends keyof Events & string>(name: K, listener: (...args: Events[K]) => void): void {
    this.inner.once(name, this.register(name, listener as Listener, true));
  }

  off<K extends keyof Events & string>(name: K, listener: (...args: Events[K]) => void): void {
    const registered = this.wrappers
      .get(listener as Listener)
      ?.get(name)
      ?.pop();
    if (registered) this.inner.off(name, registered);
  }

  emit<K extends keyof Events & string>(name: K, ...args: Events[K]): void {
    this.inner.emit(name, ...args);
  }

  listenerCount(name: keyof Events & string): number {
    return this.inner.listenerCount(name);
  }

  /** The function registered with eventemitter3 for a listener, remembered so `off` finds it. */
  private register(name: string, listener: Listener, once: boolean): Listener {
    const registered = (...args: unknown[]) => {
      if (once) this.forget(name, listener, registered);
      try {
        const result = listener(...args);
        if (typeof result === 'object' && result !== null && 'then' in result) {
          Promise.resolve(result).catch((error: unknown) => this.failed(name, error));
        }
      } catch (error) {
        this.failed(name, error);
      }
    };
    let byName = this.wrappers.get(listener);
    if (!byName) this.wrappers.set(listener, (byName = new Map()));
    let list = byName.get(name);
    if (!list) byName.set(name, (list = []));
    list.push(registered);
    return registered;
  }

  private forget(name: string, listener: Listener, wrapper: Listener): void {
    const list = this.wrappers.get(listener)?.get(name);
    const index = list?.indexOf(wrapper) ?? -1;
    if (index >= 0) list?.splice(index, 1);
  }
}

/** The error a failed listener is reported as. */
export function listenerError(name: string, error: unknown): Error {
  return new Error(`A "${name}" listener failed: ${describeError(error)}`, { cause: error });
}
