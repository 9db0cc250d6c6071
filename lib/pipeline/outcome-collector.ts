import type { DeliveryOutcome } from '../delivery/delivery';

/** Gathers the outcomes of one event's deliveries, in subscription order, for `wait: true`. */
export class OutcomeCollector {
  private readonly outcomes: DeliveryOutcome[];
  private unsettled: number;
  private resolve!: (outcomes: DeliveryOutcome[]) => void;
  readonly promise: Promise<DeliveryOutcome[]>;

  constructor(count: number) {
    this.outcomes = new Array(count);
    this.unsettled = count;
    this.promise = new Promise((resolve) => (this.resolve = resolve));
    if (count === 0) this.resolve(this.outcomes);
  }

  slot(index: number): (outcome: DeliveryOutcome) => void {
    return (outcome) => {
      this.outcomes[index] = outcome;
      if (--this.unsettled === 0) this.resolve(this.outcomes);
    };
  }
}
