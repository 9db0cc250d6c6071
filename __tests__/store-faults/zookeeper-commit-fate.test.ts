import { describeCommitFate } from './commit-fate';

jest.setTimeout(240_000);
describeCommitFate('zookeeper', { rounds: 18 });
