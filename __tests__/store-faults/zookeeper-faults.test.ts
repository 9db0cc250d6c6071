import { describeStoreFaults } from './store-faults';

jest.setTimeout(60_000);
describeStoreFaults('zookeeper', { seeds: [1, 2] });
