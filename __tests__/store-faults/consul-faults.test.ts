import { describeStoreFaults } from './store-faults';

jest.setTimeout(60_000);
describeStoreFaults('consul', { seeds: [1, 2] });
