import { describeCommitFate } from './commit-fate';

jest.setTimeout(240_000);
describeCommitFate('etcd', { rounds: 18 });
