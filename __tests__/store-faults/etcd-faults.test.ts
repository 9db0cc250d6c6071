import { describeStoreFaults } from './store-faults';

jest.setTimeout(60_000);
describeStoreFaults('etcd', { seeds: [1, 2, 3] });
