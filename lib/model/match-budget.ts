import { FilterBudgetError } from '../errors';

/** Characters of a string compared for one step (`prefix`, `equals-ignore-case`...). */
export const COMPARED_CHARS_PER_STEP = 16;
/** Characters of a string searched for one step (a wildcard's middle: read one by one). */
export const SEARCHED_CHARS_PER_STEP = 2;

/**
 * What matching one event may still spend, shared by the filters of all its candidate
 * subscriptions (the `maxFilterWork` option): once it is spent, matching stops, whatever it was
 * doing, with FilterBudgetError. A step is a field looked up or a value tested against one value
 * or operator of a filter; a string costs a step more per {@link COMPARED_CHARS_PER_STEP}
 * characters of the filter's text compared, or per {@link SEARCHED_CHARS_PER_STEP} characters
 * of the value searched. Measured: a step takes 1-25 ns of CPU whatever the pattern and event
 * (up to 5 times more while the process is new and the code not yet compiled).
 *
 * @example
 * ```ts
 * const budget = new MatchBudget(200_000);
 * const targets = candidates.filter((c) => c.filter.matches(event, budget)); // or throws
 * ```
 */
export class MatchBudget {
  /** Steps left. */
  private left: number;

  /** `limit`: the steps it starts with (Infinity: no limit); named in the error. */
  constructor(readonly limit: number) {
    this.left = limit;
  }

  /** Spends steps; past the budget, throws FilterBudgetError. */
  spend(steps: number): void {
    if ((this.left -= steps) < 0) throw new FilterBudgetError(this.limit);
  }

  /** Spends what searching that many characters of a value costs, before the search. */
  searching(chars: number): void {
    this.spend(Math.floor(chars / SEARCHED_CHARS_PER_STEP));
  }
}

/** The steps comparing a value with a filter's text costs beyond the test's own step. */
export function comparedSteps(text: string): number {
  return Math.floor(text.length / COMPARED_CHARS_PER_STEP);
}
