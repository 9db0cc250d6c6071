import { describeCacheEqualsStore } from './cache-equals-store';

describeCacheEqualsStore('etcd');
